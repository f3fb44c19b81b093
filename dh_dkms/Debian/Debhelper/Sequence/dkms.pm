#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
# dh sequence addon for dkms-run's dh_dkms: "dh $@ --with dkms" or Build-Depends: dh-sequence-dkms.
use strict;
use warnings;
use Debian::Debhelper::Dh_Lib;

insert_before('dh_installinit', 'dh_dkms');

1;
