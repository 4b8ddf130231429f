#ifndef OCIRUN_CSQUASHFS_H
#define OCIRUN_CSQUASHFS_H
/* ocirun's C side of SIF images: squashfs written and read in-process with libsquashfs
 * (squashfs-tools-ng), and read-only loop devices. Every function returns 0 or a negative
 * value; on failure `err` (when not NULL) receives a NUL-terminated message. */
#include <stddef.h>
#include <stdint.h>

/* Writes a squashfs of the directory tree `source` into the new file `output` (created, or
 * truncated), reproducibly: entries sorted by name, every mtime and the superblock time set to
 * `mtime`, one compression worker. `compressor`: "gzip", "zstd", "xz", "lz4", "lzo" or NULL
 * (gzip). `owner_root` != 0 records every file as owned by 0:0. */
int csqfs_write_dir(const char *source, const char *output, uint32_t mtime, const char *compressor,
                    int owner_root, char *err, size_t errlen);

/* The same from a tar archive (plain or gzip-compressed; ustar, pax and GNU long names; hard
 * links share data; directories missing from the archive are made 0755). Entries that would
 * leave the root ("..") and unsupported types (sparse files) are errors. */
int csqfs_write_tar(const char *archive, const char *output, uint32_t mtime, const char *compressor,
                    int owner_root, char *err, size_t errlen);

/* A squashfs inside a file at a byte offset (a SIF partition), opened for reading. */
typedef struct csqfs_image csqfs_image;

csqfs_image *csqfs_open(int fd, uint64_t offset, uint64_t size, char *err, size_t errlen);
void csqfs_close(csqfs_image *img);

/* The whole content of the regular file at `path` (absolute in the image; symlinks in the last
 * component are followed up to 8 times), at most `limit` bytes: *out is malloc'd, free it.
 * Returns 0, 1 when the path does not exist, or -1. */
int csqfs_read_file(csqfs_image *img, const char *path, size_t limit, uint8_t **out, size_t *outlen,
                    char *err, size_t errlen);

/* The names in the directory at `path`, each followed by '\n', sorted as stored: *out is
 * malloc'd. Returns 0, 1 when the path does not exist or is not a directory, or -1. */
int csqfs_list_dir(csqfs_image *img, const char *path, char **out, char *err, size_t errlen);

/* Attaches `backing_fd` (bytes offset..offset+size) to a free loop device, read-only and
 * autoclear. Returns the loop device's open descriptor and its number in *loop_nr; mount
 * /dev/loopN before closing the descriptor (autoclear frees it once unused). */
int csqfs_loop_attach(int backing_fd, uint64_t offset, uint64_t size, int *loop_nr, char *err, size_t errlen);

#endif
