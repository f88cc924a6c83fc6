/* Fuzz the target / --ports / --resolve parsers and the planner with arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    static struct ms_request req;
    memset(&req, 0, sizeof req);
    struct ms_error err;
    struct ms_target target;
    struct ms_ports ports = ms_plan_default_ports();
    struct ms_pin pin;
    if (ms_plan_parse_target(text, &target, &err) == 0) {
        if (strlen(target.host) == 0 || strlen(target.host) > MS_MAX_HOST)
            abort();
        ms_plan_add(&req, &target, &ports, (unsigned)(text[0] & 7), &err);
        if (req.endpoint_count > MS_MAX_ENDPOINTS)
            abort();
    }
    ms_plan_parse_ports(text, &ports, &err);
    ms_plan_parse_pin(text, &pin, &err);
    ms_request_release(&req);
    free(text);
    return 0;
}
