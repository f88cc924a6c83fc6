/* report/clients.c: which mail programs can connect. The matrix is about fetching mail: an
 * audited submission endpoint alone does not make it apply, and is never the endpoint a
 * program is told to use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "report/clients.h"

static void test_sending_alone_is_not_the_matrix(void **state)
{
    (void)state;
    struct ms_result r;
    fx_result(&r, 2);
    fx_healthy_endpoint(&r.endpoints[0], MS_PROTOCOL_SUBMISSION, MS_SECURITY_IMPLICIT, 465);
    fx_healthy_endpoint(&r.endpoints[1], MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    assert_false(ms_clients_apply(&r)); /* nothing audited */

    struct ms_tls_audit *audit = calloc(1, sizeof *audit);
    assert_non_null(audit);
    r.endpoints[0].audit = audit;
    assert_false(ms_clients_apply(&r)); /* only the submission endpoint */

    r.endpoints[0].audit = NULL;
    r.endpoints[1].audit = audit;
    assert_true(ms_clients_apply(&r));

    /* with both audited, no program is sent to the submission endpoint */
    r.endpoints[0].audit = audit;
    for (size_t k = 0; k < ms_client_count; k++) {
        struct ms_client_verdict v;
        ms_client_judge(&r, k, &v);
        assert_true(v.endpoint != 0);
    }
    r.endpoints[0].audit = NULL;
    r.endpoints[1].audit = NULL;
    free(audit);
    ms_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sending_alone_is_not_the_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
