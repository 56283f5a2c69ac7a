export function udpFree(port: number, host: string): Promise<boolean>;
export function tcpFree(port: number, host: string): Promise<boolean>;
export function freePort(host?: string): Promise<number>;
export function freeMediaPort(host?: string): Promise<number>;
export function freeUdpBlock(count: number, host?: string): Promise<number>;
