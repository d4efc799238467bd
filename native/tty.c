/* --pty, the supervisor's side (src/supervisor/pty.ts): the master the init
 * passes back, and the caller's terminal (raw mode, window size). Each
 * returns >= 0 or -errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* The pty master the init sent on the sync socket (MSG_DONTWAIT: it was sent
 * before the command started). Exactly one fd, a character device that answers
 * TIOCGPTN: anything else is refused (-EBADMSG) and closed. -EAGAIN: nothing
 * yet; -ENODATA: the init closed the socket without sending one. */
EXPORT int isolate_recv_pty(int sock) {
  char tag = 0;
  struct iovec iov = {&tag, 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * 4)];
  } ctl;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  memset(&ctl, 0, sizeof ctl);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  ssize_t r;
  do r = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  if (r == 0) return -ENODATA;
  int got[4], n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && n < 4; i++) memcpy(&got[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  struct stat st;
  unsigned ptn;
  int ok = n == 1 && tag == 'P' && !(msg.msg_flags & MSG_CTRUNC) && fstat(got[0], &st) == 0 && S_ISCHR(st.st_mode) &&
           ioctl(got[0], TIOCGPTN, &ptn) == 0;
  if (ok) return got[0];
  for (int i = 0; i < n; i++) close(got[i]);
  return -EBADMSG;
}

/* fd's window size into size[0] rows, size[1] cols. -ENOTTY when fd is not a terminal. */
EXPORT int isolate_tty_winsize(int fd, int32_t *size) {
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0) return -errno;
  size[0] = ws.ws_row;
  size[1] = ws.ws_col;
  return 0;
}

/* fd's terminal settings into saved (at most 128 bytes), and its window size. */
EXPORT int isolate_tty_get(int fd, uint8_t *saved, int32_t *size) {
  struct termios t;
  if (sizeof t > 128) return -EOVERFLOW;
  if (tcgetattr(fd, &t) < 0) return -errno;
  memcpy(saved, &t, sizeof t);
  return isolate_tty_winsize(fd, size);
}

/* Raw mode (cfmakeraw) from saved settings; restore: back to saved as they were. */
EXPORT int isolate_tty_set(int fd, const uint8_t *saved, int raw) {
  struct termios t;
  memcpy(&t, saved, sizeof t);
  if (raw) cfmakeraw(&t);
  for (;;) {
    if (tcsetattr(fd, TCSADRAIN, &t) == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

EXPORT int isolate_pty_resize(int master, int rows, int cols) {
  struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
  return ioctl(master, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

/* The caller's input ended (not a terminal): what a terminal's user types for
 * it, the pty's EOF character when its line discipline is canonical. 1 when
 * written, 0 when not (raw mode: there is no EOF character to type). */
EXPORT int isolate_pty_eof(int master) {
  struct termios t;
  if (tcgetattr(master, &t) < 0) return -errno;
  if (!(t.c_lflag & ICANON)) return 0;
  char c = (char)t.c_cc[VEOF];
  for (;;) {
    if (write(master, &c, 1) == 1) return 1;
    if (errno != EINTR) return -errno;
  }
}
