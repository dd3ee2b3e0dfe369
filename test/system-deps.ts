/** Whether a missing system package fails a test (under .ci/run) or only skips it (on a developer's machine). */

/**
 * .ci/run installs OpenBLAS and Chromium and then sets MST_REQUIRE_SYSTEM_DEPS=1, so a test that cannot find one of
 * them there means the install step broke: it must fail rather than let a green CI hide it behind a skip.
 */
export const systemDepsRequired = process.env.MST_REQUIRE_SYSTEM_DEPS === "1";

/** The failure message for a dependency that CI installed but a test could not find. */
export function missingMessage(what: string): string {
  return `no ${what} found, but MST_REQUIRE_SYSTEM_DEPS=1 (.ci/run installed it): check the install step`;
}
