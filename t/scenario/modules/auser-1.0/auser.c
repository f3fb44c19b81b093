// SPDX-License-Identifier: GPL-2.0-or-later
// Test module that needs a symbol of zbase.
#include <linux/module.h>
int zbase_answer(void);
static int __init auser_init(void) { return zbase_answer() == 42 ? 0 : -EINVAL; }
module_init(auser_init);
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
