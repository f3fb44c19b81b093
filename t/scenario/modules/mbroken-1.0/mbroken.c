// SPDX-License-Identifier: GPL-2.0-or-later
// Test module with a syntax error.
#include <linux/module.h>
this is not C;
MODULE_LICENSE("GPL");
