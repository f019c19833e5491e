#!/bin/sh
# Deskside postinstall (deb: postinst configure; rpm: %post). Nothing to
# start: the agent runs per user and starts at the next login through
# /etc/xdg/autostart/deskside-agent.desktop.
set -e
if [ -f /etc/deskside/enroll.json ]; then
	echo "Deskside: agents will enrol with /etc/deskside/enroll.json at the next login."
fi
exit 0
