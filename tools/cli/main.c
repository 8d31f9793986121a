/* SPDX-License-Identifier: Apache-2.0 */
/* trakt-device-auth: authorize a program on Trakt.tv and keep its token. */
#include <stdlib.h>

#include "cli.h"

int main(int argc, char **argv)
{
    cli_options o;
    bool done = false;
    int rc = cli_parse_options(argc, argv, &o, &done);
    if (rc != CLI_EXIT_OK || done) {
        cli_options_clear(&o);
        return rc;
    }
    cli_signals_install();
    if (tda_global_init() != TDA_OK) {
        cli_error(&o, CLI_EXIT_FAILURE, TDA_OK, "libcurl could not start");
        cli_options_clear(&o);
        return CLI_EXIT_FAILURE;
    }
    rc = cli_open_store(&o);
    if (rc != CLI_EXIT_OK) {
        tda_global_cleanup();
        cli_options_clear(&o);
        return rc;
    }
    switch (o.command) {
    case CLI_LOGIN:
        rc = cli_login(&o);
        break;
    case CLI_REFRESH:
        rc = cli_refresh(&o);
        break;
    case CLI_REVOKE:
        rc = cli_revoke(&o);
        break;
    case CLI_STATUS:
        rc = cli_status(&o);
        break;
    case CLI_TOKEN:
        rc = cli_token(&o);
        break;
    }
    tda_global_cleanup();
    cli_options_clear(&o);
    /* A signal that interrupted the work decides the exit status, as a shell would report. */
    if (rc != CLI_EXIT_OK && cli_signal_received())
        rc = CLI_EXIT_SIGNAL_BASE + cli_signal_received();
    return rc;
}
