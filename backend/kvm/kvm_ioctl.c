/* One ioctl on /dev/kvm or one of its fds, with its --trace-api line and its error text. */
#include "kvm.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int kvm_ioctl(FILE *log, int fd, const struct kvm_ioctl_desc *d, unsigned long arg)
{
	int ret = ioctl(fd, d->request, arg);
	int err = ret < 0 ? errno : 0;

	if (log)
		kvm_log_ioctl(log, d, arg, ret, err);
	if (ret < 0) {
		tv_set_error("%s: %s", d->name, strerror(err));
		return -err;
	}
	return ret;
}

void kvm_close_fd(FILE *log, int fd, const char *what, const char *note)
{
	int ret = close(fd);

	if (log)
		kvm_log_line(log, note, "close(%s fd %d) = %d", what, fd, ret);
}
