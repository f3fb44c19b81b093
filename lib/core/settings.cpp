// SPDX-License-Identifier: GPL-2.0-or-later
// Settings: paths derived from the configured trees, and the make -j budget.
#include <unistd.h>

#include <exception>

#include "dkms/core/context.hpp"

namespace dkms {

fs::path Paths::kernel_source_dir_for(const std::string& kver) const {
    if (kernel_source_dir) return *kernel_source_dir;
    return install_tree / kver / "build";
}

int Settings::make_jobs() const {
    if (jobs_given) return jobs;
    if (!parallel_jobs.empty()) {
        try {
            int n = std::stoi(parallel_jobs);
            if (n > 0) return n;
        } catch (const std::exception&) {  // not a number: as if unset
        }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? int(n) : 1;
}

}  // namespace dkms
