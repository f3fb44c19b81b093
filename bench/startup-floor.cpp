// SPDX-License-Identifier: GPL-2.0-or-later
// The least a program of dkms-run's stack costs to start, for bench/bench.py's start-up row: it reads
// its command line with Boost.Program_options (two options, as `dkms-run --root R --version`), prints
// one line and exits. It is linked as dkms-run is (libstdc++, Boost.Program_options and yaml-cpp
// statically, PIE), and it links yaml-cpp's parser and emitter as dkms-run's manifests do, whose
// static objects (each of its files builds its own copy of a table of strings, and iostream's) run
// before main whether YAML is read or not. What dkms-run takes over this program is its own; what
// this program takes over /bin/true is the stack's.
#include <boost/program_options.hpp>
#include <cstdio>
#include <string>
#include <yaml-cpp/yaml.h>

namespace po = boost::program_options;

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--yaml") {  // never taken by the bench: links the parser
        YAML::Emitter out;
        out << YAML::Load(argv[2]);
        std::puts(out.c_str());
        return 0;
    }
    po::options_description d;
    d.add_options()("root", po::value<std::string>())("version", po::bool_switch());
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
    std::puts("startup-floor");
    return 0;
}
