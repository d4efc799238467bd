/* --pty: a terminal for the command, allocated in the sandbox's own devpts.
 *
 * ptyOpen (the init, once the view is built): open the sandbox's /dev/ptmx,
 * check it is a pty master, unlock it, give it the caller's window size, open
 * its slave through the master (TIOCGPTPEER: no path lookup), and pass the
 * master to the supervisor over the sync socket (SCM_RIGHTS). The slave stays
 * with the init until the fork.
 *
 * ptyAttach (the command, after setsid): the slave becomes its controlling
 * terminal and its 0, 1, 2. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ops_run.h"
#include "record.h"
#include "sys.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static long slave = -1;

static long send_fd(int sock, int fd) {
  char tag = 'P';
  struct iovec iov = {&tag, 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  struct msghdr msg;
  __builtin_memset(&msg, 0, sizeof msg);
  __builtin_memset(&ctl, 0, sizeof ctl);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  __builtin_memcpy(CMSG_DATA(c), &fd, sizeof fd);
  long r;
  do r = SYS3(SYS_sendmsg, sock, &msg, MSG_NOSIGNAL);
  while (r == -EINTR);
  return r < 0 ? r : 0;
}

int op_pty_open(const struct plan_op *op) {
  if (slave >= 0) return -EBUSY;
  long m = SYS4(SYS_openat, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
  if (m < 0) return (int)m;
  unsigned n = 0;
  int unlock = 0;
  struct winsize ws = {(unsigned short)op->arg[0].u, (unsigned short)op->arg[1].u, 0, 0};
  /* Only a pty master answers TIOCGPTN (ENOTTY from anything else). */
  long r = SYS3(SYS_ioctl, m, TIOCGPTN, &n);
  if (r >= 0) r = SYS3(SYS_ioctl, m, TIOCSPTLCK, &unlock);
  if (r >= 0) r = SYS3(SYS_ioctl, m, TIOCSWINSZ, &ws);
  if (r >= 0) r = SYS3(SYS_ioctl, m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (r >= 0) {
    slave = r;
    r = send_fd(FD_SYNC, (int)m);
  }
  SYS1(SYS_close, m);
  return r < 0 ? (int)r : 0;
}

int op_pty_attach(const struct plan_op *op __attribute__((unused))) {
  if (slave < 0) return -EBADF;
  long r = SYS3(SYS_ioctl, slave, TIOCSCTTY, 0);
  for (int fd = 0; r >= 0 && fd < 3; fd++) r = SYS3(SYS_dup3, slave, fd, 0);
  if (r >= 0) pty_release();
  return r < 0 ? (int)r : 0;
}

void pty_release(void) {
  if (slave >= 0) SYS1(SYS_close, slave);
  slave = -1;
}
