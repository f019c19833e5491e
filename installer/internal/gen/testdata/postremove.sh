#!/bin/sh
# Deskside postremove (deb: postrm $1 = remove|purge|upgrade|...; rpm:
# %postun $1 = 0 on erase, 1 on upgrade). dpkg keeps conffiles until purge;
# on purge or an rpm erase, remove /etc/deskside and whatever an admin put
# there. Per-user state (~/.config/deskside) belongs to each user and is left.
set -e
case "$1" in
purge | 0)
	rm -rf /etc/deskside
	;;
esac
exit 0
