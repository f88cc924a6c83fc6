/* mailscope-serve: `mailscope serve` runs this program (cmd/main.c execs it from the same
 * directory), so the command line tool itself never loads libmicrohttpd and GnuTLS, and
 * its start-up stays as cheap as it was. */
#include <signal.h>

#include "cmd/serve.h"

int main(int argc, char **argv)
{
    /* A client that goes away must be an error to handle, not a signal that kills us. */
    signal(SIGPIPE, SIG_IGN);
    return ms_serve_main(argc, argv);
}
