/* hold_pwd_lock - holds the lock lckpwdf() takes (a write lock on
 * /etc/.pwd.lock, or PATH) for MS milliseconds, as vipw or useradd would,
 * after printing "locked". For the group_map tests. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fd < 0 || fcntl(fd, F_SETLKW, &fl) != 0)
        return 1;
    puts("locked");
    fflush(stdout);
    usleep((useconds_t)atol(argv[2]) * 1000);
    return 0;
}
