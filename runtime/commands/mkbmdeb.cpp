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

static ExitCode run_mkbmdeb(Invocation& inv) {
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
        return ExitCode::Ok;
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
    return ExitCode::Ok;
}

static ExitCode run_mkdeb(Invocation& inv) {
    Ops ops(inv.ctx);
    make_source_deb(ops, inv.ctx, require_module_version(inv), deb_options(inv));
    return ExitCode::Ok;
}

static ExitCode run_mkdsc(Invocation& inv) {
    Ops ops(inv.ctx);
    make_source_dsc(ops, inv.ctx, require_module_version(inv), deb_options(inv));
    return ExitCode::Ok;
}

static const Option output_dir_option{
    .name = "output-dir",
    .value = "dir",
    .help = "where the packages are written (default: the module version's deb/ in the dkms tree)",
    .apply = [](CommandLine& c, const std::string& v) { c.inv.output_dir = v; },
};
static const Option sign_key_option{
    .name = "mok-signing-key",
    .value = "key",
    .help = "sign the packaged modules with this key (a file or a pkcs11: URI)",
    .apply = [](CommandLine& c, const std::string& v) { c.inv.sign_key = v; },
};
static const Option sign_cert_option{
    .name = "mok-certificate",
    .value = "cert",
    .help = "the certificate of that key",
    .apply = [](CommandLine& c, const std::string& v) { c.inv.sign_cert = v; },
};
static const Option* const mkbmdeb_options[] = {&output_dir_option, &sign_key_option, &sign_cert_option};
static const Option* const mkdeb_options[] = {&output_dir_option};

extern const Command mkbmdeb_command{
    .name = "mkbmdeb",
    .summary = "make a binary module package (.deb) of built modules for the kernels",
    .usage = "mkbmdeb {module/version [-k kernel[/arch]]... [--all] | --all [-k kernel[/arch]]...} "
             "[--output-dir dir] [--mok-signing-key key --mok-certificate cert]",
    .options = mkbmdeb_options,
    .accepts_all = true,
    .needs_targets = true,
    .run = run_mkbmdeb,
};
extern const Command mkdeb_command{
    .name = "mkdeb",
    .summary = "make a <module>-dkms source package (.deb)",
    .usage = "mkdeb module/version [--output-dir dir]",
    .options = mkdeb_options,
    .run = run_mkdeb,
};
extern const Command mkdsc_command{
    .name = "mkdsc",
    .summary = "make a Debian source package (.dsc) of a module's source",
    .usage = "mkdsc module/version [--output-dir dir]",
    .options = mkdeb_options,
    .run = run_mkdsc,
};

}  // namespace dkms::cli
