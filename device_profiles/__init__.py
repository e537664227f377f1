"""What a device is: TOML profiles (target, threads, peaks, calibration points, fitted cost)."""

from device_profiles.profile import CalibrationPoint, DeviceProfile, known_devices, load_profile, save_profile

__all__ = ["CalibrationPoint", "DeviceProfile", "known_devices", "load_profile", "save_profile"]
