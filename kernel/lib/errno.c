#include "lib/errno.h"

const char *strerror(int error)
{
	switch (error < 0 ? -error : error) {
	case EPERM: return "not permitted";
	case ENOENT: return "no such entry";
	case ESRCH: return "no such process";
	case EINTR: return "interrupted";
	case ENOEXEC: return "not an executable";
	case EBADF: return "bad file descriptor";
	case ECHILD: return "no child processes";
	case EAGAIN: return "try again";
	case EMFILE: return "too many open files";
	case EPIPE: return "broken pipe";
	case E2BIG: return "argument list too long";
	case ENOMEM: return "out of memory";
	case EFAULT: return "bad address";
	case EBUSY: return "busy";
	case EEXIST: return "already exists";
	case ENODEV: return "no such device";
	case EINVAL: return "invalid argument";
	case EDEADLK: return "the wait would never end";
	case ENOSYS: return "no such system call";
	case ENOSPC: return "no space left";
	case ECONNABORTED: return "connection aborted";
	case ECONNRESET: return "connection reset";
	case ENOBUFS: return "no buffer room";
	case ENOTCONN: return "not connected";
	case ETIMEDOUT: return "timed out";
	case ECONNREFUSED: return "connection refused";
	default: return "unknown error";
	}
}
