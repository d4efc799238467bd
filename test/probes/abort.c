/* Ends by abort(): the sandbox must report SIGABRT (134), never 0. */
#include <stdlib.h>
int main(void) { abort(); }
