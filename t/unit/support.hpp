// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers shared by the unit tests: a temporary root with fake kernel headers, a capturing reporter.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dkms/core/context.hpp"
#include "dkms/sys/fs.hpp"
#include "dkms/core/report.hpp"

namespace dkms::test {

/// Collects what the engine reports, line by line.
class CaptureReporter : public Reporter {
public:
    std::vector<std::string> out_lines, err_lines;
    void out(std::string_view l) override { out_lines.emplace_back(l); }
    void err(std::string_view l) override { err_lines.emplace_back(l); }
    void out_partial(std::string_view l) override { out_lines.emplace_back(l); }
    bool err_has(const std::string& s) const {
        for (auto& l : err_lines)
            if (l == s) return true;
        return false;
    }
};

/// Where the tests' temporary roots go: $DKMS_TEST_TMPDIR, else /dev/shm when it is there (a tmpfs:
/// the engine fsyncs every file it writes, which on a disk costs more than all the rest of a test),
/// else /tmp.
inline fs::path test_tmp_parent() {
    if (const char* d = std::getenv("DKMS_TEST_TMPDIR"); d && *d) return d;
    if (access("/dev/shm", W_OK | X_OK) == 0 && dir_exists("/dev/shm")) return "/dev/shm";
    return "/tmp";
}

/// A root in a temporary directory: etc/os-release, var/lib/dkms, usr/src, and for each
/// kernel given lib/modules/<K>/build holding a fake headers tree (Makefile, include/config/auto.conf).
struct FakeRoot {
    TempDir dir{test_tmp_parent(), "dkms-unit"};
    CaptureReporter report;
    Context ctx{Settings{}, report};
    Settings& settings = ctx.settings;

    explicit FakeRoot(const std::string& os_id = "debian") {
        fs::path r = dir.path();
        settings.root = r;
        settings.dkms_tree = r / "var/lib/dkms";
        settings.source_tree = r / "usr/src";
        settings.install_tree = r / "lib/modules";
        settings.jobs = 3;
        settings.jobs_given = true;
        fs::create_directories(settings.dkms_tree);
        fs::create_directories(settings.source_tree);
        fs::create_directories(r / "etc/dkms");
        write(r / "etc/os-release", "ID=" + os_id + "\n");
    }
    fs::path path() const { return dir.path(); }
    /// A kernel whose headers have the given auto.conf content.
    fs::path add_kernel(const std::string& kver, const std::string& auto_conf = "CONFIG_MODULES=y\n") {
        fs::path b = settings.install_tree / kver / "build";
        fs::create_directories(b / "include/config");
        write(b / "Makefile", "# fake\n");
        write(b / "include/config/auto.conf", auto_conf);
        return b;
    }
    static void write(const fs::path& p, const std::string& text) {
        fs::create_directories(p.parent_path());
        write_file_atomic(p, text, 0644);
    }
};

}  // namespace dkms::test
