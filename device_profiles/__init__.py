"""What a device is: TOML profiles (target, threads, peaks, calibration points, fitted cost)."""

from device_profiles.measurement import Measurement
from device_profiles.profile import known_devices, load_profile, load_profile_file, save_profile
from device_profiles.schema import DeviceProfile

__all__ = ["DeviceProfile", "Measurement", "known_devices", "load_profile", "load_profile_file", "save_profile"]
