// Live capture for the Electron main process and the CLI (Node only, no Electron import).
// The main process normally uses CaptureHelper (a separate, privileged process) and RemoteCapture;
// CaptureSession is what runs inside the helper and the CLI.
export { listDevices, formatDevice, type CaptureDevice, type DeviceAddress } from './devices.ts';
export {
  CaptureSession, CaptureError, validateFilter, CAP_SNAPLEN,
  type CaptureOptions, type CaptureBatch, type CaptureStats, type CaptureSummary, type LiveInterface, type LivePacket, type StopReason,
} from './session.ts';
export { CaptureHelper, listDevicesViaHelper, type HelperLaunch, type HelperCallbacks } from './client.ts';
export { checkCapturePrivileges, fixCommands, type PrivilegeCheck } from './privileges.ts';
export { RemoteCapture, RemoteCaptureError, type RemoteCaptureOptions, type RemoteErrorKind, type RemoteSummary } from './remote.ts';
