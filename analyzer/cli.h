/*
 * cli.h - heavyops-analyze as a function: parse (opts.c), dispatch to a command
 * (cmd.h), print.  main() only calls an_cli_run(); the tests call it with their
 * own streams.
 */
#ifndef AN_CLI_H
#define AN_CLI_H

#include <stdio.h>

#ifndef AN_VERSION
#    define AN_VERSION "unknown"
#endif

/* Runs the program with argv, writing to out and err; returns an an_exit code.
 * Nothing reaches out unless the command succeeded. */
int an_cli_run(int argc, char **argv, FILE *out, FILE *err);

#endif /* AN_CLI_H */
