// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run mkbmdeb / mkdeb / mkdsc: Debian packages of a module (binary modules, or its source).
#include <algorithm>

#include "../command.hpp"
#include "dkms/ops/debs.hpp"

namespace dkms::cli {

static DebOptions deb_options(const Invocation& inv) {
    DebOptions o;
    if (inv.output_dir) o.output_dir = *inv.output_dir;
    return o;
}

static int run_mkbmdeb(Invocation& inv) {
    Ops ops(inv.ctx);
    if (inv.sign_key.has_value() != inv.sign_cert.has_value())
        throw Error(ExitCode::Usage,
                    {"mkbmdeb signs with a key pair: give both --mok-signing-key and --mok-certificate.",
                     "Or set mok_signing_key and mok_certificate in framework.conf."});
    DebOptions o = deb_options(inv);
    if (inv.sign_key) o.sign_key = *inv.sign_key;
    if (inv.sign_cert) o.sign_cert = fs::absolute(*inv.sign_cert);
    if (inv.sign_key && inv.sign_key->rfind("pkcs11:", 0) != 0) o.sign_key = fs::absolute(*inv.sign_key).string();
    // mkbmdeb --all without a module: a package of every module, for the kernels given (or all built).
    if (inv.module.empty() && inv.ctx.settings.all) {
        std::vector<Target> kernels = inv.targets;
        std::erase_if(kernels, [](const Target& t) { return t.kver.empty(); });
        make_all_binary_debs(ops, inv.ctx, kernels, o);
        return 0;
    }
    ModuleId id = require_module_version(inv);
    std::vector<Target> targets = inv.ctx.settings.all ? ops.tree().built_targets(id) : inv.targets;
    std::erase_if(targets, [](const Target& t) { return t.kver.empty(); });
    // The package form follows the command line, not how many kernels happen to be built: one -k
    // gives the per-kernel package; several -k, or --all, one package for all of them.
    std::vector<Target> distinct;
    for (auto& t : targets)
        if (std::find(distinct.begin(), distinct.end(), t) == distinct.end()) distinct.push_back(t);
    o.one_package = inv.ctx.settings.all || distinct.size() > 1;
    make_binary_debs(ops, inv.ctx, id, o.one_package ? distinct : targets, o);
    return 0;
}

static int run_mkdeb(Invocation& inv) {
    Ops ops(inv.ctx);
    make_source_deb(ops, inv.ctx, require_module_version(inv), deb_options(inv));
    return 0;
}

static int run_mkdsc(Invocation& inv) {
    Ops ops(inv.ctx);
    make_source_dsc(ops, inv.ctx, require_module_version(inv), deb_options(inv));
    return 0;
}

extern const Command mkbmdeb_command{
    "mkbmdeb", "make a binary module package (.deb) of built modules for the kernels",
    "mkbmdeb {module/version [-k kernel[/arch]]... [--all] | --all [-k kernel[/arch]]...} [--output-dir dir] "
    "[--mok-signing-key key --mok-certificate cert]", true, true, false, run_mkbmdeb};
extern const Command mkdeb_command{
    "mkdeb", "make a <module>-dkms source package (.deb)",
    "mkdeb module/version [--output-dir dir]", false, false, false, run_mkdeb};
extern const Command mkdsc_command{
    "mkdsc", "make a Debian source package (.dsc) of a module's source",
    "mkdsc module/version [--output-dir dir]", false, false, false, run_mkdsc};

}  // namespace dkms::cli
