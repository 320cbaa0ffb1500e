/**
 * Thrown by the unsynchronised `plain` map when it detects concurrent use, the
 * way Go's runtime fails with "concurrent map writes" instead of corrupting.
 */
export class ConcurrentMapWriteError extends Error {
  constructor(message: 'concurrent map writes' | 'concurrent map read and map write') {
    super(message);
    this.name = 'ConcurrentMapWriteError';
  }
}
