// What every test of this binary runs under, and the `moetune` processes the tests start.
#include <cstdlib>

namespace {

// Sweeps measure the quick roofline (harness/roofline.h RooflineOptions::for_sweeps): the full
// probe streams 512 MiB several times per sweep, most of what a test's small sweep costs (and
// far more under the sanitizers). Set here, before any test, rather than as a ctest property:
// gtest_discover_tests cannot pass a second environment variable, and a test run by hand then
// behaves as under ctest. A value already set (0, to time the full probe) is kept.
const int kQuickRoofline = setenv("MOETUNE_TEST_QUICK_ROOFLINE", "1", /*overwrite=*/0);

}  // namespace
