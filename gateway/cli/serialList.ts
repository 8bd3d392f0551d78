import { SerialPort } from 'serialport';

/** `trellis serial list`: the serial ports this system has (USB adapters, on-board UARTs). */
export async function runSerialList(options: { json?: boolean }): Promise<void> {
  const ports = await SerialPort.list();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(ports, null, 2)}\n`);
    return;
  }
  if (ports.length === 0) {
    process.stdout.write('No serial ports found. Plug in a USB-RS485 adapter, or check that udev is running.\n');
    return;
  }
  for (const p of ports) {
    const details = [p.manufacturer, p.serialNumber && `serial ${p.serialNumber}`, p.vendorId && `${p.vendorId}:${p.productId ?? ''}`]
      .filter(Boolean)
      .join(', ');
    process.stdout.write(`${p.path}${details ? `  (${details})` : ''}\n`);
  }
  process.stdout.write('\nPrefer the stable /dev/serial/by-id/... names in trellis.yaml: USB adapters can swap ttyUSB numbers.\n');
}
