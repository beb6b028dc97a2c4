/*
 * exitcodes.h - the process exit codes of heavyops-analyze, in one place so that
 * every command and the tests agree on them (jq keeps its codes the same way).
 */
#ifndef AN_EXITCODES_H
#define AN_EXITCODES_H

enum an_exit {
    AN_EXIT_OK = 0,      /* report printed */
    AN_EXIT_RUNTIME = 1, /* unreadable, corrupt or foreign input file; out of memory */
    AN_EXIT_USAGE = 2,   /* bad command line: nothing was read */
};

#endif /* AN_EXITCODES_H */
