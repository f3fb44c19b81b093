// SPDX-License-Identifier: GPL-2.0-or-later
// Test module excluded from every real kernel.
#include <linux/module.h>
MODULE_LICENSE("GPL");
