/** What an upload did, per archive or summed over a backup. */
export interface UploadStats {
  /** Plaintext bytes put into the index (read, or generated for pxar). */
  bytes: number;
  chunks: number;
  /** Chunks and plaintext bytes sent to the server. */
  uploadedChunks: number;
  uploadedBytes: number;
  /** Encoded bytes on the wire (after compression and encryption). */
  encodedBytes: number;
  /** Chunks the server already had (previous index or earlier in this session). */
  knownChunks: number;
  knownBytes: number;
}

export function emptyStats(): UploadStats {
  return {
    bytes: 0,
    chunks: 0,
    uploadedChunks: 0,
    uploadedBytes: 0,
    encodedBytes: 0,
    knownChunks: 0,
    knownBytes: 0,
  };
}

export function addStats(into: UploadStats, from: UploadStats): UploadStats {
  for (const key of Object.keys(into) as (keyof UploadStats)[]) into[key] += from[key];
  return into;
}
