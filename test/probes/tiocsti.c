/* Tries to push a character into the terminal on fd 0 (TIOCSTI) and reports the result. */
#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
int main(void) {
  char c = '#';
  int r = ioctl(0, TIOCSTI, &c);
  printf("tiocsti=%d errno=%d\n", r, r ? errno : 0);
  return 0;
}
