/* Exits 0 when none of the descriptors named on the command line is open in
 * this (exec'd) process: proof that they were close-on-exec. */
#include <fcntl.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (fcntl(atoi(argv[i]), F_GETFD) != -1) return 1;
  return 0;
}
