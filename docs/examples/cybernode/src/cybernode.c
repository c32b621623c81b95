/* The cybernode example's node: prints who it runs as and where its data is. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *datadir = "/cyberdata";
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "--datadir=", 10) == 0) datadir = argv[i] + 10;
  printf("cybernode %s uid=%u gid=%u datadir=%s\n", VERSION, (unsigned)getuid(), (unsigned)getgid(), datadir);
  return 0;
}
