@_exported import SIFFormat
