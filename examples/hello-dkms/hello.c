// SPDX-License-Identifier: GPL-2.0-or-later
// dkms-run example module: logs a line when loaded and unloaded.
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>

static char *greeting = "hello from dkms-run";
module_param(greeting, charp, 0444);
MODULE_PARM_DESC(greeting, "line logged at load time");

static int __init hello_init(void)
{
	pr_info("dkms_run_hello: %s\n", greeting);
	return 0;
}

static void __exit hello_exit(void)
{
	pr_info("dkms_run_hello: goodbye\n");
}

module_init(hello_init);
module_exit(hello_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dkms-run example module");
MODULE_VERSION("1.0");
