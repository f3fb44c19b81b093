// SPDX-License-Identifier: GPL-2.0-or-later
// Test module that exports a symbol for auser.
#include <linux/module.h>
int zbase_answer(void) { return 42; }
EXPORT_SYMBOL_GPL(zbase_answer);
MODULE_LICENSE("GPL");
MODULE_VERSION("1.0");
