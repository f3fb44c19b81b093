// SPDX-License-Identifier: GPL-2.0-or-later
// Independent test module.
#include <linux/module.h>
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
