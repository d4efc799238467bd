/* The GO message and the mount fds that come with it (passed.h). */
#include "passed.h"

#include <errno.h>
#include <sys/socket.h>

#include "sys.h"

static int fds[PASSED_MAX];
static unsigned count, next;

long passed_wait_go(int fd) {
  char go = 0;
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * PASSED_MAX)];
  } ctl;
  struct iovec iov = {&go, 1};
  struct msghdr msg;
  __builtin_memset(&msg, 0, sizeof msg);
  __builtin_memset(&ctl, 0, sizeof ctl);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  long r;
  do r = SYS3(SYS_recvmsg, fd, &msg, MSG_CMSG_CLOEXEC);
  while (r == -EINTR);
  if (r <= 0) return r;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
    unsigned n = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    __builtin_memcpy(fds, CMSG_DATA(c), n * sizeof(int));
    count = n;
  }
  /* A cut-off list is a plan the init cannot keep: refuse it. */
  if (msg.msg_flags & MSG_CTRUNC) return -EMSGSIZE;
  return 1;
}

long passed_take(void) { return next < count ? fds[next++] : -EBADF; }
