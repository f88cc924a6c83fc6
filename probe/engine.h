/* The probe: runs every endpoint of a request concurrently in one event loop and returns
 * the facts. */
#ifndef MS_ENGINE_H
#define MS_ENGINE_H

#include "probe/error.h"
#include "probe/request.h"
#include "probe/result.h"

/* Probe every endpoint of req, bounded by req->deadline_s in all. On return 0, *out holds
 * one result per endpoint, in request order (free with ms_result_free). Failures of
 * endpoints are facts inside *out, not errors. Returns 0, MS_ENOMEM, MS_EIO, or MS_ETLS /
 * MS_EINVAL / MS_EDNS for a local set-up problem (bad CA file, bad DNS server list), with
 * err->message saying what. */
int ms_engine_run(const struct ms_request *req, struct ms_result *out, struct ms_error *err);

#endif
