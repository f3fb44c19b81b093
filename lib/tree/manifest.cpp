// SPDX-License-Identifier: GPL-2.0-or-later
// The YAML manifest of a built instance; the only yaml-cpp user.
#include <yaml-cpp/yaml.h>

#include "dkms/compress.hpp"
#include "dkms/error.hpp"
#include "dkms/fs.hpp"
#include "dkms/tree.hpp"

namespace dkms {

bool read_manifest(const fs::path& built_dir, Manifest& m) {
    fs::path p = built_dir / manifest_name;
    if (!path_exists(p)) return false;
    auto corrupt = [&](const std::string& why) { return Error(ExitCode::Error, p.string() + ": corrupt manifest: " + why); };
    try {
        std::string text = read_file(p);
        // A manifest lists a few modules; anything this large was not written by us.
        if (text.size() > 1024 * 1024) throw corrupt("larger than 1 MiB");
        YAML::Node n = YAML::Load(text);
        if (!n.IsMap()) throw corrupt("not a mapping");
        m.schema = n["schema"].as<int>();
        if (m.schema != 1) throw corrupt("schema " + std::to_string(m.schema) + " is not 1 (written by a newer dkms-run?)");
        m.module = n["module"].as<std::string>();
        m.version = n["version"].as<std::string>();
        m.kernel = n["kernel"].as<std::string>();
        m.arch = n["arch"].as<std::string>();
        m.make_command = n["make"] ? n["make"].as<std::string>() : "";
        m.files.clear();
        for (const auto& f : n["files"]) {
            ManifestFile mf;
            mf.name = f["name"].as<std::string>();
            mf.sha256 = f["sha256"].as<std::string>();
            mf.installed_to = f["installed_to"] ? f["installed_to"].as<std::string>() : "";
            if (mf.name.empty() || mf.name.find('/') != std::string::npos || mf.name == ".." ||
                module_base_name(mf.name).empty())
                throw Error(ExitCode::Error, p.string() + ": bad file name '" + mf.name + "'");
            if (mf.sha256.size() != 64 || mf.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
                throw corrupt("bad sha256 for " + mf.name);
            if (!mf.installed_to.empty() && fs::path(mf.installed_to).is_relative())
                throw corrupt("installed_to of " + mf.name + " is not an absolute path");
            m.files.push_back(mf);
        }
    } catch (const YAML::Exception& e) {
        throw Error(ExitCode::Error, p.string() + ": corrupt manifest: " + e.what());
    }
    return true;
}

void write_manifest(const fs::path& built_dir, const Manifest& m) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "schema" << YAML::Value << m.schema;
    out << YAML::Key << "module" << YAML::Value << YAML::DoubleQuoted << m.module;
    out << YAML::Key << "version" << YAML::Value << YAML::DoubleQuoted << m.version;
    out << YAML::Key << "kernel" << YAML::Value << YAML::DoubleQuoted << m.kernel;
    out << YAML::Key << "arch" << YAML::Value << YAML::DoubleQuoted << m.arch;
    out << YAML::Key << "make" << YAML::Value << YAML::DoubleQuoted << m.make_command;
    out << YAML::Key << "files" << YAML::Value << YAML::BeginSeq;
    for (auto& f : m.files) {
        out << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << f.name;
        out << YAML::Key << "sha256" << YAML::Value << f.sha256;
        if (!f.installed_to.empty())
            out << YAML::Key << "installed_to" << YAML::Value << YAML::DoubleQuoted << f.installed_to;
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
    write_file_atomic(built_dir / manifest_name, std::string(out.c_str()) + "\n", 0644);
}

}  // namespace dkms
