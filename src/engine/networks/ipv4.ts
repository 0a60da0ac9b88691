/**
 * IPv4 addresses and CIDR blocks as numbers: parsing with Docker's messages, containment and
 * overlap. Only what IPAM and subnet checks need.
 */
import { invalidParameter } from '../../common/errors.js';

export interface Cidr {
  /** Network address (host bits cleared). */
  base: number;
  prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** A dotted quad as an unsigned 32-bit number, undefined when it is not one. */
export function parseIp(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIp(ip: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(ip / 2 ** shift) % 256).join('.');
}

export function size(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** "10.1.0.0/16" → {base, prefix}; `strict` refuses host bits (Docker: "invalid subnet … : it should be …"). */
export function parseCidr(text: string): Cidr & { ip: number } {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const ip = match ? parseIp(match[1]) : undefined;
  const prefix = match ? Number(match[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw invalidParameter(`invalid CIDR address: ${text}`);
  const block = 2 ** (32 - prefix);
  return { ip, base: ip - (ip % block), prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.base)}/${cidr.prefix}`;
}

export function contains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.base && ip < cidr.base + size(cidr);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** A MAC address derived from an IPv4 address, as Docker's bridge driver makes them (02:42:a:b:c:d). */
export function macOf(ip: number): string {
  const octets = [24, 16, 8, 0].map((shift) => (Math.floor(ip / 2 ** shift) % 256).toString(16).padStart(2, '0'));
  return ['02', '42', ...octets].join(':');
}
