// SPDX-License-Identifier: GPL-2.0-or-later
// Cleanup by scope: TempFile beside TempDir, and ScopeGuard, also when the Interrupted exception
// (which no `catch (const Error&)` takes) unwinds through them.
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include <catch2/catch.hpp>

#include "dkms/core/error.hpp"
#include "dkms/core/scope_guard.hpp"
#include "dkms/sys/fs.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

namespace {

std::vector<std::string> names(const fs::path& dir) {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("a TempFile is removed unless committed or released", "[raii]") {
    FakeRoot r;
    fs::path final = r.path() / "f";
    {
        TempFile t(final);
        CHECK(t.path().filename().string().rfind(".f.tmp-", 0) == 0);
        CHECK(names(r.path()) == std::vector<std::string>{t.path().filename().string(), "etc", "usr", "var"});
    }
    CHECK_FALSE(path_exists(final));
    CHECK(names(r.path()) == std::vector<std::string>{"etc", "usr", "var"});
    try {
        TempFile t(final);
        throw Interrupted(SIGINT);
    } catch (const Interrupted&) {
    }
    CHECK(names(r.path()) == std::vector<std::string>{"etc", "usr", "var"});
    {
        TempFile t(final);
        REQUIRE(write(t.fd(), "x", 1) == 1);
        t.commit(0640);
    }
    CHECK(read_file(final) == "x");
    CHECK((fs::status(final).permissions() & fs::perms::all) == fs::perms(0640));
    CHECK(names(r.path()) == std::vector<std::string>{"etc", "f", "usr", "var"});
    fs::path kept;
    {
        TempFile t(r.path() / "g", ".");
        kept = t.release();
    }
    CHECK(path_exists(kept));
    CHECK(kept.filename().string().rfind(".g.", 0) == 0);
}

TEST_CASE("a ScopeGuard undoes on the way out, unless dismissed", "[raii]") {
    int undone = 0;
    try {
        ScopeGuard g([&] { ++undone; });
        throw Interrupted(SIGTERM);
    } catch (const Interrupted&) {
    }
    CHECK(undone == 1);
    {
        ScopeGuard g([&] { ++undone; });
        g.dismiss();
    }
    CHECK(undone == 1);
    {
        ScopeGuard g([&] { ++undone; });
    }
    CHECK(undone == 2);
}
