#!/usr/bin/env bash
# Runs a command inside this checkout's ROS 2 environment, provisioning it first when needed:
#   bash ros/with-ros.sh npx vitest run test/ros-
# With a system ROS 2 already sourced (ROS_DISTRO set and no .ros/), it runs the command as is.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z "${ROS_DISTRO:-}" || -f "$ROOT/.ros/env.sh" ]]; then
  bash "$ROOT/ros/setup-ros.sh" >/dev/null
  # shellcheck source=/dev/null
  source "$ROOT/.ros/env.sh"
fi
exec "$@"
