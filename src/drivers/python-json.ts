/**
 * JSON text as Python's json.dumps writes it (", " and ": "), so the attach_info and cpid_info of our
 * drivers match Cyborg's byte for byte. Keys keep the given order; Cyborg's PCI helpers sort them first.
 */
export function pythonJson(value: Record<string, string>): string {
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}: ${JSON.stringify(item)}`)
    .join(', ')}}`
}

/** Python's json.dumps(OrderedDict(sorted(d.items()))): what cyborg/accelerator/common/utils.py sends. */
export function sortedPythonJson(value: Record<string, string>): string {
  return pythonJson(Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
}
