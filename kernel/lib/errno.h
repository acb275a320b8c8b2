// Error codes. Functions that can fail for a reason the caller should
// handle return a negative code (-ENOMEM); kernel bugs panic instead.

#ifndef KERNEL_LIB_ERRNO_H
#define KERNEL_LIB_ERRNO_H

#define EPERM   1       // not permitted (a policy said no: libdune's sandbox)
#define ENOENT  2       // no such thing
#define ESRCH   3       // no such process or thread
#define EINTR   4       // interrupted: the process was killed while it waited
#define ENOEXEC 8       // not an executable this kernel can run
#define EBADF   9       // bad file descriptor
#define ECHILD  10      // no child to wait for
#define EAGAIN  11      // nothing now: try again later (ixev: no data, a full window)
#define ENOMEM  12      // out of memory
#define EFAULT  14      // bad address
#define EBUSY   16      // in use
#define EEXIST  17      // already there
#define ENODEV  19      // no such device, or a CPU feature the call needs
#define EINVAL  22      // invalid argument
#define EMFILE  24      // too many open files
#define ENOSPC  28      // no room left (a table, a ring)
#define EPIPE   32      // write to a pipe nobody reads
#define E2BIG   7       // argument list or string too long
#define EDEADLK 35      // the wait would never end
#define ENOSYS  38      // no such system call
#define ECONNABORTED 103 // the connection was aborted (the dataplane's TCP)
#define ECONNRESET 104  // the peer reset the connection
#define ENOBUFS 105     // no room: past a connection's send window
#define ENOTCONN 107    // the connection is not open (any more)
#define ETIMEDOUT 110   // a device did not answer in time
#define ECONNREFUSED 111 // the peer refused the connection

// A name for an error code, for messages: "out of memory".
const char *strerror(int error);

#endif
