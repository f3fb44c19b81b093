// SPDX-License-Identifier: GPL-2.0-or-later
// build_confinement (framework.conf, --directive) and what a Sandbox decides in the parent: the
// user, refusals, the jobserver's descriptors. What the child does is t/scenario/confinement.sh's.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>

#include "dkms/conf/framework.hpp"
#include "dkms/core/error.hpp"
#include "dkms/sys/sandbox.hpp"
#include "support.hpp"

using namespace dkms;
using dkms::test::FakeRoot;

namespace {

std::vector<std::string> error_lines(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.lines();
    }
    return {"(no error)"};
}

}  // namespace

TEST_CASE("parse_confinement takes auto, on and off only", "[sandbox]") {
    CHECK(parse_confinement("auto") == Confinement::Auto);
    CHECK(parse_confinement("on") == Confinement::On);
    CHECK(parse_confinement("off") == Confinement::Off);
    for (auto bad : {"", "On", "yes", "true", "0", "auto "}) CHECK_FALSE(parse_confinement(bad));
    for (auto c : {Confinement::Auto, Confinement::On, Confinement::Off}) CHECK(parse_confinement(to_string(c)) == c);
}

TEST_CASE("build_confinement: auto by default, framework.conf, framework.conf.d, then --directive", "[sandbox]") {
    FakeRoot r;
    load_framework(r.settings);
    CHECK(build_confinement(r.settings) == Confinement::Auto);
    FakeRoot::write(r.path() / "etc/dkms/framework.conf", "# comment\nbuild_confinement=\"off\"\n");
    load_framework(r.settings);
    CHECK(build_confinement(r.settings) == Confinement::Off);
    FakeRoot::write(r.path() / "etc/dkms/framework.conf.d/50-on.conf", "build_confinement=on\n");
    load_framework(r.settings);
    CHECK(build_confinement(r.settings) == Confinement::On);
    r.settings.directives = {"build_confinement=off", "OTHER=1"};
    CHECK(build_confinement(r.settings) == Confinement::Off);
    r.settings.directives = {"build_confinement=off", "build_confinement=auto"};
    CHECK(build_confinement(r.settings) == Confinement::Auto);
}

TEST_CASE("build_confinement: a bad value names its file and line, or the option", "[sandbox]") {
    FakeRoot r;
    const std::string fix = "Set it to auto (the default: confine builds where the kernel allows it), on (confine them "
                            "or fail) or off (build as root, unconfined, as dkms does).";
    fs::path conf = r.path() / "etc/dkms/framework.conf";
    FakeRoot::write(conf, "sign_file=/x\n\n  export build_confinement=maybe # typo\n");
    load_framework(r.settings);
    CHECK(error_lines([&] { build_confinement(r.settings); }) ==
          std::vector<std::string>{conf.string() + ":3: build_confinement=\"maybe\" is not auto, on or off.", fix});
    r.settings.directives = {"build_confinement=no"};
    CHECK(error_lines([&] { build_confinement(r.settings); }) ==
          std::vector<std::string>{"--directive build_confinement=no: build_confinement=\"no\" is not auto, on or off.",
                                   fix});
    r.settings.directives = {"build_confinement=on"};  // the command line wins over a bad file
    CHECK(build_confinement(r.settings) == Confinement::On);
    r.settings.directives = {"build_confinement="};
    CHECK(error_lines([&] { build_confinement(r.settings); }).front() ==
          "--directive build_confinement=: build_confinement=\"\" is not auto, on or off.");
}

TEST_CASE("Sandbox off: nothing is decided, MAKEFLAGS passes as it is", "[sandbox]") {
    SandboxPolicy p;
    p.mode = Confinement::Off;
    p.user = "no-such-user-dkms-run-test";
    p.makeflags = " -j --jobserver-auth=fifo:/nonexistent";
    Sandbox box(p);
    CHECK(box.level() == Sandbox::Level::None);
    CHECK(box.limits().empty());
    CHECK(box.makeflags() == p.makeflags);
}

TEST_CASE("Sandbox on refuses a user that does not exist, or is root", "[sandbox]") {
    if (geteuid() != 0) return;  // as another user, `on` is refused for that first
    SandboxPolicy p;
    p.mode = Confinement::On;
    p.user = "no-such-user-dkms-run-test";
    // Where the kernel refuses namespaces, `on` says that first (confinement.sh tests it).
    if (namespaces_refused().empty())
        CHECK(error_lines([&] { Sandbox box(p); }) ==
              std::vector<std::string>{"build_confinement=on: the user no-such-user-dkms-run-test does not exist.",
                                       "Reinstall dkms-run (its postinst creates the user), or set build_confinement=auto "
                                       "or off (build_confinement in /etc/dkms/framework.conf)."});
    p.user = "root";
    for (auto mode : {Confinement::On, Confinement::Auto}) {
        if (mode == Confinement::On && !namespaces_refused().empty()) continue;
        p.mode = mode;
        CHECK(error_lines([&] { Sandbox box(p); }).front() == "build_confinement=" + std::string(to_string(mode)) +
                                                                   ": the user root is root (uid 0): builds must not "
                                                                   "run as root.");
    }
}

TEST_CASE("Sandbox auto without the user: confined as nobody where namespaces work, else as dkms; quietly",
          "[sandbox]") {
    if (geteuid() != 0) return;
    SandboxPolicy p;
    p.user = "no-such-user-dkms-run-test";
    Sandbox box(p);
    CHECK(box.limits().empty());
    if (namespaces_refused().empty()) {
        CHECK(box.level() == Sandbox::Level::Namespaces);
        CHECK(box.user() == "nobody");
        CHECK(box.uid() == 65534);
    } else {
        CHECK(box.level() == Sandbox::Level::None);
        CHECK(box.user().empty());
        CHECK(box.uid() == 0);
    }
    test::CaptureReporter rep;
    warn_limits_once(rep, box);
    CHECK(rep.err_lines.empty());
}

TEST_CASE("Sandbox: a fifo jobserver becomes a descriptor the step inherits; R,W pass as they are", "[sandbox]") {
    if (geteuid() != 0) return;
    FakeRoot r;
    fs::path fifo = r.path() / "fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    int keep = open(fifo.c_str(), O_RDWR | O_CLOEXEC);  // make's own end, as make 4.4 holds it
    REQUIRE(keep >= 0);
    SandboxPolicy p;
    p.user = "nobody";
    p.makeflags = "-j4 --jobserver-auth=fifo:" + fifo.string() + " -Otarget";
    {
        Sandbox box(p);
        std::string mf = box.makeflags();
        REQUIRE(mf.rfind("-j4 --jobserver-auth=", 0) == 0);
        std::string fds = mf.substr(21, mf.find(' ', 21) - 21);
        int fd = std::stoi(fds);
        CHECK(fds == std::to_string(fd) + "," + std::to_string(fd));
        CHECK(mf.substr(mf.find(' ', 21)) == " -Otarget");
        CHECK(fcntl(fd, F_GETFD) != -1);
        CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
    }
    p.makeflags = "-j --jobserver-auth=3,4";
    Sandbox box2(p);
    CHECK(box2.makeflags() == p.makeflags);
    close(keep);
}

TEST_CASE("Sandbox: / cannot be shown or hidden, a path not twice in two ways", "[sandbox]") {
    if (geteuid() != 0 || !namespaces_refused().empty()) return;
    FakeRoot r;
    SandboxPolicy p;
    p.user = "nobody";
    p.writable = {"/"};
    CHECK(error_lines([&] { Sandbox box(p); }).front() == "internal error: the sandbox cannot expose /");
    p.writable = {r.path()};
    p.hidden = {r.path() / "."};
    CHECK(error_lines([&] { Sandbox box(p); }).front() ==
          "internal error: " + r.path().string() + " is given twice to the sandbox");
    p.hidden = {r.path() / "nonexistent"};  // absent: nothing to hide
    Sandbox box(p);
    CHECK(box.level() == Sandbox::Level::Namespaces);
}
