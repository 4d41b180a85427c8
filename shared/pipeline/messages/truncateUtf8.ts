/** Cuts a UTF-8 string to at most `maxBytes` bytes without splitting a character. */
const truncateUtf8 = (text: string, maxBytes: number): string => {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Decoding a cut-off prefix yields U+FFFD for a split character; drop it.
  return bytes
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
};

export { truncateUtf8 };
