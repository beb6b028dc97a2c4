/*
 * analyze_main.c - the heavyops-analyze executable; everything else is in
 * analyzer_lib so the unit tests can run the same code.
 */
#include "cli.h"

int
main(int argc, char **argv)
{
    return an_cli_run(argc, argv, stdout, stderr);
}
