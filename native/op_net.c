/* Network setup: a new network namespace starts with loopback down. */
#include <linux/if.h>
#include <linux/sockios.h>
#include <sys/socket.h>

#include "ops_run.h"
#include "sys.h"

int op_loopback_up(const struct plan_op *op __attribute__((unused))) {
  long fd = SYS3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return (int)fd;
  struct ifreq ifr;
  __builtin_memset(&ifr, 0, sizeof ifr);
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  long r = SYS3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr);
  if (r == 0) {
    ifr.ifr_flags |= IFF_UP;
    r = SYS3(SYS_ioctl, fd, SIOCSIFFLAGS, &ifr);
  }
  SYS1(SYS_close, fd);
  return (int)r;
}
