#include "dkms/kernel/kernel.hpp"
// SPDX-License-Identifier: GPL-2.0-or-later
#include "dkms/kernel/kernel.hpp"
// dkms-run add: register a module source (by m/v or by source directory).
#include "dkms/kernel/kernel.hpp"
#include "../command.hpp"
#include "dkms/kernel/kernel.hpp"

#include "dkms/kernel/kernel.hpp"
namespace dkms::cli {
#include "dkms/kernel/kernel.hpp"

#include "dkms/kernel/kernel.hpp"
static int run_add(Invocation& inv) {
#include "dkms/kernel/kernel.hpp"
    Ops ops(inv.ctx);
#include "dkms/kernel/kernel.hpp"
    Target conf_t = inv.targets.empty() ? Target{running_kernel(), machine_arch()} : inv.targets.front();
#include "dkms/kernel/kernel.hpp"
    if (inv.source_path) {
#include "dkms/kernel/kernel.hpp"
        ModuleId id = ops.add_path(*inv.source_path, conf_t);
#include "dkms/kernel/kernel.hpp"
        inv.module = id.name;
#include "dkms/kernel/kernel.hpp"
        inv.version = id.version;
#include "dkms/kernel/kernel.hpp"
    }
#include "dkms/kernel/kernel.hpp"
    return ops.add(require_module_version(inv), conf_t);
#include "dkms/kernel/kernel.hpp"
}
#include "dkms/kernel/kernel.hpp"

#include "dkms/kernel/kernel.hpp"
extern const Command add_command{"add", "add a module source to the dkms tree", "add [module/version | source-dir]",
#include "dkms/kernel/kernel.hpp"
                                 false, true, true, run_add};
#include "dkms/kernel/kernel.hpp"

#include "dkms/kernel/kernel.hpp"
}  // namespace dkms::cli
