#!/bin/bash
# CI's part of the upstream Kubernetes e2e suites (`make check-e2e` runs
# them whole): the Services [Conformance] tests and a handful of
# NetworkPolicy tests, on the real-node test bed with Tendril's DaemonSet.
# See tests/e2e/README.md.
# Exit: 0 pass, 77 skip (not root, missing dependencies), 1 fail.
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/tests/e2e/run-e2e.sh" --subset ci
