/* Many targets in one run (--targets-file): read lazily, probed with a bound on the
 * endpoints in flight, each reported as soon as it finishes and then freed. */
#ifndef MS_FLEET_H
#define MS_FLEET_H

#include "cmd/options.h"
#include "probe/request.h"
#include "probe/result.h"

/* Report one finished target; returns its status (0..3), or MS_RENDER_FAILED when the
 * report could not be written (stdout is gone: the fleet stops at once). */
#define MS_RENDER_FAILED (-1)
typedef int (*ms_render_fn)(void *arg, const struct ms_request *req,
                            const struct ms_result *result);

/* How long the targets in flight may take to finish after SIGINT/SIGTERM (then they are
 * abandoned, unreported). */
#define MS_FLEET_DRAIN_S 2.0

/* Run every target of opt->targets_file. Returns the worst status over all targets (0..3),
 * 3 when the run was cut short (SIGINT/SIGTERM, stdout gone, the targets file unreadable
 * halfway), or -1 with err set when the run could not start (unreadable file, bad CA file,
 * ...). A summary line goes to stderr, last; a progress line too when stderr is a
 * terminal. */
int ms_fleet_run(const struct ms_options *opt, ms_render_fn render, void *render_arg,
                 struct ms_error *err);

#endif
