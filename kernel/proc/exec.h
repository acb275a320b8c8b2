#ifndef KERNEL_PROC_EXEC_H
#define KERNEL_PROC_EXEC_H

// Replaces the current process's program by the program called name
// (proc/programs.h), with the argc strings of argv as main's arguments.
// Returns 0 (the process continues in the new program when the system
// call returns), or -ENOENT, -ENOEXEC, -ENOMEM, -EFAULT with the old
// program untouched, or -EBUSY if the process has other threads.
int proc_exec(const char *name, char *const argv[], int argc);

struct proc;

// A new process (not yet started: proc_start) running the program called
// name with these arguments. Returns NULL and sets *error on failure.
struct proc *proc_spawn(const char *name, char *const argv[], int argc, int *error);

// For the kernel's own runs (kernel/main.c's programs, the self-tests):
// proc_spawn_started starts argv[0] with the argc strings of argv, and
// panics if it cannot; proc_wait_report waits for p to end, prints
// "process NAME[PID] ended with status S" and returns S.
struct proc *proc_spawn_started(char *const argv[], int argc);
int proc_wait_report(struct proc *p);

#endif
