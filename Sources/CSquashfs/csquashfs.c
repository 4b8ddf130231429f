// ocirun: squashfs written and read with libsquashfs, and read-only loop devices.
#define _GNU_SOURCE
#include "csquashfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/loop.h>

#include <zlib.h>

#include <sqfs/block.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_writer.h>
#include <sqfs/super.h>

static void seterr(char *err, size_t len, const char *fmt, ...) {
    if (!err || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static const char *sqfs_err_text(int code) {
    switch (code) {
    case SQFS_ERROR_ALLOC: return "out of memory";
    case SQFS_ERROR_IO: return "I/O error";
    case SQFS_ERROR_COMPRESSOR: return "compressor error";
    case SQFS_ERROR_INTERNAL: return "internal error";
    case SQFS_ERROR_CORRUPTED: return "corrupted squashfs";
    case SQFS_ERROR_UNSUPPORTED: return "unsupported squashfs feature";
    case SQFS_ERROR_OVERFLOW: return "numeric overflow";
    case SQFS_ERROR_OUT_OF_BOUNDS: return "out of bounds";
    case SFQS_ERROR_SUPER_MAGIC: return "not a squashfs (bad magic)";
    case SFQS_ERROR_SUPER_VERSION: return "unsupported squashfs version";
    case SQFS_ERROR_SUPER_BLOCK_SIZE: return "invalid block size";
    case SQFS_ERROR_NOT_DIR: return "not a directory";
    case SQFS_ERROR_NO_ENTRY: return "no such entry";
    case SQFS_ERROR_LINK_LOOP: return "hard link loop";
    case SQFS_ERROR_NOT_FILE: return "not a regular file";
    case SQFS_ERROR_ARG_INVALID: return "invalid argument";
    case SQFS_ERROR_SEQUENCE: return "call sequence error";
    default: return "error";
    }
}

/* ---- a sqfs_file_t over a descriptor and a window of it ---- */

typedef struct {
    sqfs_file_t base;
    int fd;
    uint64_t offset, size;
    int writable;
} fd_file;

static void fd_file_destroy(sqfs_object_t *obj) {
    fd_file *f = (fd_file *)obj;
    if (f->writable) close(f->fd);
    free(f);
}

static int fd_file_read_at(sqfs_file_t *base, sqfs_u64 offset, void *buffer, size_t size) {
    fd_file *f = (fd_file *)base;
    if (offset > f->size || size > f->size - offset) return SQFS_ERROR_OUT_OF_BOUNDS;
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(f->fd, (char *)buffer + done, size - done, (off_t)(f->offset + offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return SQFS_ERROR_IO;
        done += (size_t)n;
    }
    return 0;
}

static int fd_file_write_at(sqfs_file_t *base, sqfs_u64 offset, const void *buffer, size_t size) {
    fd_file *f = (fd_file *)base;
    if (!f->writable) return SQFS_ERROR_IO;
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(f->fd, (const char *)buffer + done, size - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return SQFS_ERROR_IO;
        done += (size_t)n;
    }
    if (offset + size > f->size) f->size = offset + size;
    return 0;
}

static sqfs_u64 fd_file_get_size(const sqfs_file_t *base) { return ((const fd_file *)base)->size; }

static int fd_file_truncate(sqfs_file_t *base, sqfs_u64 size) {
    fd_file *f = (fd_file *)base;
    if (!f->writable || ftruncate(f->fd, (off_t)size) != 0) return SQFS_ERROR_IO;
    f->size = size;
    return 0;
}

static fd_file *fd_file_new(int fd, uint64_t offset, uint64_t size, int writable) {
    fd_file *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    f->base.base.destroy = fd_file_destroy;
    f->base.base.copy = NULL;
    f->base.read_at = fd_file_read_at;
    f->base.write_at = fd_file_write_at;
    f->base.get_size = fd_file_get_size;
    f->base.truncate = fd_file_truncate;
    f->fd = fd;
    f->offset = offset;
    f->size = size;
    f->writable = writable;
    return f;
}

/* ---- writer: an in-memory tree of the source directory ---- */

typedef struct node {
    char *name;
    char *path;              /* host path, for regular files */
    struct stat st;
    char *target;            /* symlink target */
    struct node **children;
    size_t nchildren;
    struct node *parent;
    sqfs_inode_generic_t *inode;
    struct node *link_to;    /* a tar hard link: shares this regular file's data */
    struct node *next_dead;  /* replaced by a later tar entry of the same name */
    sqfs_u32 inode_num;
    sqfs_u64 inode_ref;
} node;

static void node_free(node *n) {
    if (!n) return;
    for (size_t i = 0; i < n->nchildren; i++) node_free(n->children[i]);
    free(n->children);
    free(n->name);
    free(n->path);
    free(n->target);
    free(n->inode);
    free(n);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp((*(node *const *)a)->name, (*(node *const *)b)->name);
}

static int scan(node *n, char *err, size_t errlen) {
    DIR *d = opendir(n->path);
    if (!d) { seterr(err, errlen, "opendir %s: %s", n->path, strerror(errno)); return -1; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strlen(e->d_name) > 255) { seterr(err, errlen, "%s/%s: name too long", n->path, e->d_name); closedir(d); return -1; }
        node *c = calloc(1, sizeof(*c));
        node **grown = realloc(n->children, (n->nchildren + 1) * sizeof(*grown));
        if (!c || !grown) { free(c); closedir(d); seterr(err, errlen, "out of memory"); return -1; }
        n->children = grown;
        n->children[n->nchildren++] = c;
        c->parent = n;
        c->name = strdup(e->d_name);
        if (asprintf(&c->path, "%s/%s", n->path, e->d_name) < 0) c->path = NULL;
        if (!c->name || !c->path) { closedir(d); seterr(err, errlen, "out of memory"); return -1; }
        if (lstat(c->path, &c->st) != 0) { seterr(err, errlen, "lstat %s: %s", c->path, strerror(errno)); closedir(d); return -1; }
        if (S_ISLNK(c->st.st_mode)) {
            size_t cap = (size_t)c->st.st_size + 1;
            if (cap < 2) cap = 4096;
            c->target = calloc(1, cap + 1);
            ssize_t len = c->target ? readlink(c->path, c->target, cap) : -1;
            if (len < 0) { seterr(err, errlen, "readlink %s: %s", c->path, strerror(errno)); closedir(d); return -1; }
            c->target[len] = 0;
        } else if (S_ISDIR(c->st.st_mode)) {
            if (scan(c, err, errlen) != 0) { closedir(d); return -1; }
        }
    }
    closedir(d);
    qsort(n->children, n->nchildren, sizeof(node *), cmp_names);
    return 0;
}

typedef struct {
    sqfs_file_t *file;
    sqfs_block_processor_t *proc;
    sqfs_meta_writer_t *im, *dm;
    sqfs_dir_writer_t *dirwr;
    sqfs_id_table_t *idtbl;
    sqfs_u32 next_ino;
    sqfs_u32 mtime;
    int owner_root;
    char *err;
    size_t errlen;
} writer;

/* Data of every regular file, in tree order. */
static int write_data(writer *w, node *n) {
    for (size_t i = 0; i < n->nchildren; i++) {
        node *c = n->children[i];
        if (S_ISDIR(c->st.st_mode)) {
            if (write_data(w, c) != 0) return -1;
        } else if (S_ISREG(c->st.st_mode)) {
            int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0) { seterr(w->err, w->errlen, "open %s: %s", c->path, strerror(errno)); return -1; }
            int r = sqfs_block_processor_begin_file(w->proc, &c->inode, NULL, 0);
            if (r) { close(fd); seterr(w->err, w->errlen, "%s: %s", c->path, sqfs_err_text(r)); return -1; }
            static char buf[1 << 17];
            for (;;) {
                ssize_t got = read(fd, buf, sizeof(buf));
                if (got < 0 && errno == EINTR) continue;
                if (got < 0) { seterr(w->err, w->errlen, "read %s: %s", c->path, strerror(errno)); close(fd); return -1; }
                if (got == 0) break;
                r = sqfs_block_processor_append(w->proc, buf, (size_t)got);
                if (r) { close(fd); seterr(w->err, w->errlen, "%s: %s", c->path, sqfs_err_text(r)); return -1; }
            }
            close(fd);
            r = sqfs_block_processor_end_file(w->proc);
            if (r) { seterr(w->err, w->errlen, "%s: %s", c->path, sqfs_err_text(r)); return -1; }
        }
    }
    return 0;
}

static sqfs_inode_generic_t *make_inode(node *c, char *err, size_t errlen) {
    sqfs_inode_generic_t *in = NULL;
    mode_t m = c->st.st_mode;
    if (S_ISLNK(m)) {
        size_t tlen = strlen(c->target);
        in = calloc(1, sizeof(*in) + tlen);
        if (!in) return NULL;
        in->base.type = SQFS_INODE_SLINK;
        in->data.slink.nlink = 1;
        in->data.slink.target_size = (sqfs_u32)tlen;
        memcpy(in->extra, c->target, tlen);
        in->payload_bytes_available = in->payload_bytes_used = (sqfs_u32)tlen;
    } else if (S_ISBLK(m) || S_ISCHR(m)) {
        in = calloc(1, sizeof(*in));
        if (!in) return NULL;
        in->base.type = S_ISBLK(m) ? SQFS_INODE_BDEV : SQFS_INODE_CDEV;
        in->data.dev.nlink = 1;
        unsigned maj = major(c->st.st_rdev), min = minor(c->st.st_rdev);
        in->data.dev.devno = (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
    } else if (S_ISFIFO(m) || S_ISSOCK(m)) {
        in = calloc(1, sizeof(*in));
        if (!in) return NULL;
        in->base.type = S_ISFIFO(m) ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET;
        in->data.ipc.nlink = 1;
    } else {
        seterr(err, errlen, "%s: unsupported file type", c->name);
    }
    return in;
}

/* Inode numbers, post-order: children before their directory, the root last. */
static void number(writer *w, node *n) {
    for (size_t i = 0; i < n->nchildren; i++) {
        node *c = n->children[i];
        if (S_ISDIR(c->st.st_mode)) number(w, c);
        else c->inode_num = w->next_ino++;
    }
    n->inode_num = w->next_ino++;
}

static int set_base(writer *w, node *c) {
    sqfs_inode_generic_t *in = c->inode;
    in->base.mode = (sqfs_u16)(c->st.st_mode & 07777);
    in->base.mod_time = w->mtime;
    in->base.inode_number = c->inode_num;
    sqfs_u32 uid = w->owner_root ? 0 : c->st.st_uid, gid = w->owner_root ? 0 : c->st.st_gid;
    int r = sqfs_id_table_id_to_index(w->idtbl, uid, &in->base.uid_idx);
    if (!r) r = sqfs_id_table_id_to_index(w->idtbl, gid, &in->base.gid_idx);
    return r;
}

static int put_inode(writer *w, node *c) {
    int r = set_base(w, c);
    if (r) return r;
    sqfs_u64 block; sqfs_u32 off;
    sqfs_meta_writer_get_position(w->im, &block, &off);
    c->inode_ref = (block << 16) | off;
    return sqfs_meta_writer_write_inode(w->im, c->inode);
}

/* Post-order: children's inodes (and sub-directories) first, then this directory's listing and inode. */
static int write_tree(writer *w, node *n, sqfs_u32 total) {
    int r = 0;
    for (size_t i = 0; i < n->nchildren; i++) {
        node *c = n->children[i];
        if (S_ISDIR(c->st.st_mode)) {
            if (write_tree(w, c, total) != 0) return -1;
            continue;
        }
        if (S_ISREG(c->st.st_mode) && c->link_to) {
            sqfs_inode_generic_t *src = c->link_to->inode;
            size_t sz = sizeof(*src) + (src ? src->payload_bytes_available : 0);
            c->inode = src ? malloc(sz) : NULL;
            if (!c->inode) { seterr(w->err, w->errlen, "%s: out of memory", c->name); return -1; }
            memcpy(c->inode, src, sz);
        } else if (!S_ISREG(c->st.st_mode)) {
            c->inode = make_inode(c, w->err, w->errlen);
            if (!c->inode) { if (!w->err[0]) seterr(w->err, w->errlen, "out of memory"); return -1; }
        }
        if (!c->inode) { seterr(w->err, w->errlen, "%s: no inode", c->name); return -1; }
        if ((r = put_inode(w, c))) { seterr(w->err, w->errlen, "%s: %s", c->path, sqfs_err_text(r)); return -1; }
    }
    r = sqfs_dir_writer_begin(w->dirwr, 0);
    for (size_t i = 0; !r && i < n->nchildren; i++) {
        node *c = n->children[i];
        r = sqfs_dir_writer_add_entry(w->dirwr, c->name, c->inode_num, c->inode_ref, (sqfs_u16)(c->st.st_mode & 0xffff));
    }
    if (!r) r = sqfs_dir_writer_end(w->dirwr);
    if (r) { seterr(w->err, w->errlen, "%s: %s", n->path, sqfs_err_text(r)); return -1; }
    size_t subdirs = 0;
    for (size_t i = 0; i < n->nchildren; i++) subdirs += S_ISDIR(n->children[i]->st.st_mode) ? 1 : 0;
    sqfs_u32 parent = n->parent ? n->parent->inode_num : total + 1;
    n->inode = sqfs_dir_writer_create_inode(w->dirwr, 2 + subdirs, 0xFFFFFFFF, parent);
    if (!n->inode) { seterr(w->err, w->errlen, "%s: out of memory", n->path); return -1; }
    if ((r = put_inode(w, n))) { seterr(w->err, w->errlen, "%s: %s", n->path, sqfs_err_text(r)); return -1; }
    return 0;
}

/* The image around a tree: `produce` fills the tree and submits file data to w->proc (after
 * the superblock and compressor options are in place); the rest (inodes, directories, tables,
 * superblock) follows from the tree. */
typedef int (*producer)(writer *w, void *ctx, node **root);

static int build_image(const char *output, uint32_t mtime, const char *compressor, int owner_root,
                       producer produce, void *ctx, char *err, size_t errlen) {
    int ret = -1, r = 0;
    SQFS_COMPRESSOR cid = SQFS_COMP_GZIP;
    if (compressor && *compressor) {
        int id = sqfs_compressor_id_from_name(compressor);
        if (id < 0) { seterr(err, errlen, "unknown compressor \"%s\" (gzip, zstd, xz, lz4, lzo)", compressor); return -1; }
        cid = (SQFS_COMPRESSOR)id;
    }
    int fd = open(output, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { seterr(err, errlen, "create %s: %s", output, strerror(errno)); return -1; }
    fd_file *ff = fd_file_new(fd, 0, 0, 1);
    if (!ff) { close(fd); unlink(output); seterr(err, errlen, "out of memory"); return -1; }
    sqfs_file_t *file = &ff->base;

    writer w = {.file = file, .next_ino = 1, .mtime = mtime, .owner_root = owner_root, .err = err, .errlen = errlen};
    node *root = NULL;
    sqfs_super_t super;
    sqfs_compressor_config_t cfg;
    sqfs_compressor_t *cmp = NULL;
    sqfs_block_writer_t *bw = NULL;
    sqfs_frag_table_t *frags = NULL;
    const size_t block_size = SQFS_DEFAULT_BLOCK_SIZE;

    if ((r = sqfs_super_init(&super, block_size, mtime, cid))) goto sqerr;
    if ((r = sqfs_compressor_config_init(&cfg, cid, block_size, 0))) goto sqerr;
    if ((r = sqfs_compressor_create(&cfg, &cmp))) goto sqerr;
    if ((r = sqfs_super_write(&super, file))) goto sqerr;
    r = cmp->write_options(cmp, file);
    if (r < 0) goto sqerr;
    if (r > 0) super.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;
    r = 0;

    bw = sqfs_block_writer_create(file, 4096, 0);
    frags = sqfs_frag_table_create(0);
    w.idtbl = sqfs_id_table_create(0);
    if (!bw || !frags || !w.idtbl) { r = SQFS_ERROR_ALLOC; goto sqerr; }
    w.proc = sqfs_block_processor_create(block_size, cmp, 1, 16, bw, frags);
    if (!w.proc) { r = SQFS_ERROR_ALLOC; goto sqerr; }
    if (produce(&w, ctx, &root) != 0) goto out;
    if ((r = sqfs_block_processor_finish(w.proc))) goto sqerr;

    w.im = sqfs_meta_writer_create(file, cmp, SQFS_META_WRITER_KEEP_IN_MEMORY);
    w.dm = sqfs_meta_writer_create(file, cmp, SQFS_META_WRITER_KEEP_IN_MEMORY);
    if (!w.im || !w.dm) { r = SQFS_ERROR_ALLOC; goto sqerr; }
    w.dirwr = sqfs_dir_writer_create(w.dm, 0);
    if (!w.dirwr) { r = SQFS_ERROR_ALLOC; goto sqerr; }
    number(&w, root);
    if (write_tree(&w, root, w.next_ino - 1) != 0) goto out;
    super.inode_count = w.next_ino - 1;
    super.root_inode_ref = root->inode_ref;
    super.inode_table_start = file->get_size(file);
    if ((r = sqfs_meta_writer_flush(w.im)) || (r = sqfs_meta_write_write_to_file(w.im))) goto sqerr;
    super.directory_table_start = file->get_size(file);
    if ((r = sqfs_meta_writer_flush(w.dm)) || (r = sqfs_meta_write_write_to_file(w.dm))) goto sqerr;
    if ((r = sqfs_frag_table_write(frags, file, &super, cmp))) goto sqerr;
    if ((r = sqfs_id_table_write(w.idtbl, file, &super, cmp))) goto sqerr;
    super.export_table_start = 0xFFFFFFFFFFFFFFFFULL;
    super.xattr_id_table_start = 0xFFFFFFFFFFFFFFFFULL;
    super.flags |= SQFS_FLAG_NO_XATTRS;
    super.bytes_used = file->get_size(file);
    {
        /* Padded to 4 KiB like mksquashfs, so a loop device sees whole blocks. */
        sqfs_u64 padded = (super.bytes_used + 4095) & ~(sqfs_u64)4095;
        if (padded > super.bytes_used) {
            static const char zeros[4096];
            if ((r = file->write_at(file, super.bytes_used, zeros, (size_t)(padded - super.bytes_used)))) goto sqerr;
        }
    }
    if ((r = sqfs_super_write(&super, file))) goto sqerr;
    if (fsync(ff->fd) != 0) { seterr(err, errlen, "fsync %s: %s", output, strerror(errno)); goto out; }
    ret = 0;
    goto out;
sqerr:
    seterr(err, errlen, "write squashfs %s: %s", output, sqfs_err_text(r));
out:
    /* The block processor may hold pointers to file inodes until it is gone. */
    if (w.proc) sqfs_destroy(w.proc);
    if (w.dirwr) sqfs_destroy(w.dirwr);
    if (w.im) sqfs_destroy(w.im);
    if (w.dm) sqfs_destroy(w.dm);
    if (w.idtbl) sqfs_destroy(w.idtbl);
    if (frags) sqfs_destroy(frags);
    if (bw) sqfs_destroy(bw);
    if (cmp) sqfs_destroy(cmp);
    sqfs_destroy(file);
    node_free(root);
    if (ret != 0) unlink(output);
    return ret;
}

static int produce_dir(writer *w, void *ctx, node **root) {
    *root = ctx;
    return write_data(w, *root);
}

int csqfs_write_dir(const char *source, const char *output, uint32_t mtime, const char *compressor,
                    int owner_root, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    node *root = calloc(1, sizeof(*root));
    if (!root) { seterr(err, errlen, "out of memory"); return -1; }
    root->path = strdup(source);
    root->name = strdup("");
    if (stat(source, &root->st) != 0) { seterr(err, errlen, "stat %s: %s", source, strerror(errno)); node_free(root); return -1; }
    if (!S_ISDIR(root->st.st_mode)) { seterr(err, errlen, "%s: not a directory", source); node_free(root); return -1; }
    if (scan(root, err, errlen) != 0) { node_free(root); return -1; }
    return build_image(output, mtime, compressor, owner_root, produce_dir, root, err, errlen);
}

/* ---- tar archives (plain or gzip), streamed: file data goes to the image as it is read ---- */

typedef struct {
    gzFile gz;
    const char *path;
    node *root;
    node *dead;              /* replaced nodes, freed with the tree */
    char *long_name, *long_link;
    char *pax_path, *pax_link;
    int64_t pax_size, pax_uid, pax_gid;
} tar_reader;

static int tar_read(tar_reader *t, void *buf, size_t len, writer *w) {
    size_t done = 0;
    while (done < len) {
        int n = gzread(t->gz, (char *)buf + done, (unsigned)(len - done > (1u << 30) ? (1u << 30) : len - done));
        if (n <= 0) {
            int e = 0;
            const char *msg = gzerror(t->gz, &e);
            seterr(w->err, w->errlen, "%s: %s", t->path, n < 0 && e ? msg : "truncated archive");
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

static int tar_skip(tar_reader *t, uint64_t len, writer *w) {
    static char buf[1 << 16];
    while (len > 0) {
        size_t n = len > sizeof(buf) ? sizeof(buf) : (size_t)len;
        if (tar_read(t, buf, n, w) != 0) return -1;
        len -= n;
    }
    return 0;
}

/* Octal (NUL/space terminated) or GNU base-256 numbers. */
static int tar_number(const unsigned char *f, size_t len, uint64_t *out) {
    uint64_t v = 0;
    if (f[0] & 0x80) {
        for (size_t i = 1; i < len; i++) { if (v >> 56) return -1; v = (v << 8) | f[i]; }
        *out = v;
        return 0;
    }
    size_t i = 0;
    while (i < len && f[i] == ' ') i++;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) { if (v >> 60) return -1; v = v * 8 + (uint64_t)(f[i] - '0'); }
    if (i < len && f[i] != 0 && f[i] != ' ') return -1;
    *out = v;
    return 0;
}

static char *tar_string(const unsigned char *f, size_t len) {
    size_t n = strnlen((const char *)f, len);
    char *s = malloc(n + 1);
    if (s) { memcpy(s, f, n); s[n] = 0; }
    return s;
}

static int tar_read_text(tar_reader *t, uint64_t size, char **out, writer *w) {
    if (size > (1u << 20)) { seterr(w->err, w->errlen, "%s: extended header of %llu bytes", t->path, (unsigned long long)size); return -1; }
    char *buf = malloc((size_t)size + 1);
    if (!buf) { seterr(w->err, w->errlen, "out of memory"); return -1; }
    if (tar_read(t, buf, (size_t)size, w) != 0 || tar_skip(t, (512 - size % 512) % 512, w) != 0) { free(buf); return -1; }
    buf[size] = 0;
    *out = buf;
    return 0;
}

static int pax_parse(tar_reader *t, char *text, size_t len, writer *w) {
    size_t at = 0;
    while (at < len) {
        char *end = NULL;
        unsigned long rec = strtoul(text + at, &end, 10);
        if (!end || *end != ' ' || rec == 0 || at + rec > len || text[at + rec - 1] != '\n') {
            seterr(w->err, w->errlen, "%s: malformed pax header", t->path); return -1;
        }
        char *kv = end + 1, *eq = memchr(kv, '=', (size_t)(text + at + rec - 1 - kv));
        if (eq) {
            *eq = 0;
            text[at + rec - 1] = 0;
            char *val = eq + 1;
            if (!strcmp(kv, "path")) { free(t->pax_path); t->pax_path = strdup(val); }
            else if (!strcmp(kv, "linkpath")) { free(t->pax_link); t->pax_link = strdup(val); }
            else if (!strcmp(kv, "size")) t->pax_size = strtoll(val, NULL, 10);
            else if (!strcmp(kv, "uid")) t->pax_uid = strtoll(val, NULL, 10);
            else if (!strcmp(kv, "gid")) t->pax_gid = strtoll(val, NULL, 10);
        }
        at += rec;
    }
    return 0;
}

/* The node at `path` (relative, cleaned), made with parents as directories when `create`. */
static node *tar_lookup(tar_reader *t, const char *path, int create, node **parent_out, const char **leaf_out, writer *w) {
    node *dir = t->root;
    const char *p = path;
    for (;;) {
        while (*p == '/') p++;
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0) return dir;
        if ((n == 1 && p[0] == '.')) { p += 1; continue; }
        if (n == 2 && p[0] == '.' && p[1] == '.') { seterr(w->err, w->errlen, "%s: entry \"%s\" leaves the archive root", t->path, path); return NULL; }
        if (n > 255) { seterr(w->err, w->errlen, "%s: \"%s\": name too long", t->path, path); return NULL; }
        int last = 1;
        for (const char *q = p + n; *q; q++) if (*q != '/') { last = 0; break; }
        if (last && parent_out) { *parent_out = dir; *leaf_out = p; return NULL; }
        node *found = NULL;
        for (size_t i = 0; i < dir->nchildren; i++)
            if (strlen(dir->children[i]->name) == n && !memcmp(dir->children[i]->name, p, n)) { found = dir->children[i]; break; }
        if (!found) {
            if (!create) return NULL;
            found = calloc(1, sizeof(*found));
            node **grown = realloc(dir->children, (dir->nchildren + 1) * sizeof(*grown));
            if (!found || !grown) { free(found); seterr(w->err, w->errlen, "out of memory"); return NULL; }
            dir->children = grown;
            dir->children[dir->nchildren++] = found;
            found->parent = dir;
            found->name = strndup(p, n);
            found->st.st_mode = S_IFDIR | 0755;
        }
        if (!S_ISDIR(found->st.st_mode)) {
            if (!create) return NULL;
            seterr(w->err, w->errlen, "%s: \"%s\": a parent is not a directory", t->path, path); return NULL;
        }
        dir = found;
        p += n;
    }
}

static void sort_tree(node *n) {
    qsort(n->children, n->nchildren, sizeof(node *), cmp_names);
    for (size_t i = 0; i < n->nchildren; i++) if (S_ISDIR(n->children[i]->st.st_mode)) sort_tree(n->children[i]);
}

static void bury(tar_reader *t, node *n) {
    /* Keep replaced nodes (and their subtrees) alive until the block processor is gone. */
    n->next_dead = t->dead;
    t->dead = n;
}

static int produce_tar(writer *w, void *ctx, node **root_out) {
    tar_reader *t = ctx;
    *root_out = t->root;
    unsigned char h[512];
    int zeros = 0, entries = 0;
    for (;;) {
        int n = gzread(t->gz, h, sizeof(h));
        if (n == 0 && zeros) break;
        if (n != (int)sizeof(h) && entries == 0 && !zeros) {
            seterr(w->err, w->errlen, "%s: not a tar archive (%s)", t->path, n < 0 ? "unreadable" : "shorter than one header"); return -1;
        }
        if (n == 0) { seterr(w->err, w->errlen, "%s: truncated archive (no end-of-archive blocks)", t->path); return -1; }
        if (n != (int)sizeof(h)) { seterr(w->err, w->errlen, "%s: truncated archive", t->path); return -1; }
        entries++;
        int allzero = 1;
        for (size_t i = 0; i < sizeof(h); i++) if (h[i]) { allzero = 0; break; }
        if (allzero) { if (++zeros == 2) break; continue; }
        zeros = 0;
        uint64_t sum = 0, want = 0;
        for (size_t i = 0; i < sizeof(h); i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
        if (tar_number(h + 148, 8, &want) != 0 || sum != want) {
            seterr(w->err, w->errlen, "%s: not a tar archive (header checksum mismatch)", t->path); return -1;
        }
        uint64_t mode = 0, uid = 0, gid = 0, size = 0, dmaj = 0, dmin = 0;
        if (tar_number(h + 100, 8, &mode) || tar_number(h + 108, 8, &uid) || tar_number(h + 116, 8, &gid) ||
            tar_number(h + 124, 12, &size)) {
            seterr(w->err, w->errlen, "%s: malformed header numbers", t->path); return -1;
        }
        char type = (char)h[156];
        if (t->pax_size >= 0) size = (uint64_t)t->pax_size;
        if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
            char *text = NULL;
            if (tar_read_text(t, size, &text, w) != 0) return -1;
            int r = 0;
            if (type == 'x') r = pax_parse(t, text, (size_t)size, w);
            if (type == 'L') { free(t->long_name); t->long_name = text; text = NULL; }
            if (type == 'K') { free(t->long_link); t->long_link = text; text = NULL; }
            free(text);
            if (type == 'g') t->pax_size = -1;
            if (r) return -1;
            continue;
        }
        if (!memcmp(h + 257, "ustar", 5)) { tar_number(h + 329, 8, &dmaj); tar_number(h + 337, 8, &dmin); }
        char *name;
        if (t->pax_path) { name = t->pax_path; t->pax_path = NULL; }
        else if (t->long_name) { name = t->long_name; t->long_name = NULL; }
        else {
            char *base = tar_string(h, 100);
            char *prefix = !memcmp(h + 257, "ustar", 5) ? tar_string(h + 345, 155) : NULL;
            if (prefix && *prefix) { name = NULL; if (asprintf(&name, "%s/%s", prefix, base) < 0) name = NULL; free(base); }
            else name = base;
            free(prefix);
        }
        char *link;
        if (t->pax_link) { link = t->pax_link; t->pax_link = NULL; }
        else if (t->long_link) { link = t->long_link; t->long_link = NULL; }
        else link = tar_string(h + 157, 100);
        if (t->pax_uid >= 0) uid = (uint64_t)t->pax_uid;
        if (t->pax_gid >= 0) gid = (uint64_t)t->pax_gid;
        t->pax_size = t->pax_uid = t->pax_gid = -1;
        if (!name || !link) { free(name); free(link); seterr(w->err, w->errlen, "out of memory"); return -1; }

        mode_t fmt;
        switch (type) {
        case '0': case '\0': case '7': case '1': fmt = S_IFREG; break;
        case '2': fmt = S_IFLNK; break;
        case '3': fmt = S_IFCHR; break;
        case '4': fmt = S_IFBLK; break;
        case '5': fmt = S_IFDIR; break;
        case '6': fmt = S_IFIFO; break;
        default:
            seterr(w->err, w->errlen, "%s: \"%s\": unsupported tar entry type '%c'", t->path, name, type);
            free(name); free(link); return -1;
        }
        node *parent = NULL;
        const char *leaf = NULL;
        node *existing = tar_lookup(t, name, 1, &parent, &leaf, w);
        if (!parent) {
            if (existing == t->root && fmt == S_IFDIR) {   /* "./" itself: the root's mode and owner */
                t->root->st.st_mode = S_IFDIR | (mode & 07777);
                t->root->st.st_uid = (uid_t)uid; t->root->st.st_gid = (gid_t)gid;
                free(name); free(link);
                if (tar_skip(t, (size + 511) / 512 * 512, w) != 0) return -1;
                continue;
            }
            if (!w->err[0]) seterr(w->err, w->errlen, "%s: \"%s\": invalid entry name", t->path, name);
            free(name); free(link); return -1;
        }
        size_t nlen = strlen(leaf);
        while (nlen && leaf[nlen - 1] == '/') nlen--;
        node *c = NULL;
        size_t slot = parent->nchildren;
        for (size_t i = 0; i < parent->nchildren; i++)
            if (strlen(parent->children[i]->name) == nlen && !memcmp(parent->children[i]->name, leaf, nlen)) { c = parent->children[i]; slot = i; break; }
        if (c && S_ISDIR(c->st.st_mode) && fmt == S_IFDIR) {
            /* A directory entry again (or after its implicit creation): new mode and owner. */
        } else {
            node *fresh = calloc(1, sizeof(*fresh));
            if (!fresh) { free(name); free(link); seterr(w->err, w->errlen, "out of memory"); return -1; }
            fresh->name = strndup(leaf, nlen);
            fresh->parent = parent;
            if (c) { bury(t, c); parent->children[slot] = fresh; }
            else {
                node **grown = realloc(parent->children, (parent->nchildren + 1) * sizeof(*grown));
                if (!grown) { free(fresh->name); free(fresh); free(name); free(link); seterr(w->err, w->errlen, "out of memory"); return -1; }
                parent->children = grown;
                parent->children[parent->nchildren++] = fresh;
            }
            c = fresh;
        }
        c->st.st_mode = fmt | (mode_t)(mode & 07777);
        c->st.st_uid = (uid_t)uid;
        c->st.st_gid = (gid_t)gid;
        c->st.st_rdev = makedev((unsigned)dmaj, (unsigned)dmin);
        int r = 0;
        if (type == '2') {
            c->target = link; link = NULL;
        } else if (type == '1') {
            node *dummy_parent = NULL; const char *dummy_leaf = NULL;
            node *target = NULL;
            /* Look the target up as a full path (its last component included). */
            node *dir = tar_lookup(t, link, 0, &dummy_parent, &dummy_leaf, w);
            (void)dir;
            if (dummy_parent) {
                size_t tl = strlen(dummy_leaf);
                while (tl && dummy_leaf[tl - 1] == '/') tl--;
                for (size_t i = 0; i < dummy_parent->nchildren; i++)
                    if (strlen(dummy_parent->children[i]->name) == tl && !memcmp(dummy_parent->children[i]->name, dummy_leaf, tl)) target = dummy_parent->children[i];
            }
            while (target && target->link_to) target = target->link_to;
            if (!target || !S_ISREG(target->st.st_mode) || target == c) {
                seterr(w->err, w->errlen, "%s: hard link \"%s\" to \"%s\": no such regular file before it", t->path, name, link);
                r = -1;
            } else {
                c->link_to = target;
                c->st.st_mode = S_IFREG | (target->st.st_mode & 07777);
            }
            if (!r) r = tar_skip(t, (size + 511) / 512 * 512, w);
        } else if (fmt == S_IFREG) {
            r = sqfs_block_processor_begin_file(w->proc, &c->inode, NULL, 0);
            if (r) { seterr(w->err, w->errlen, "%s: \"%s\": %s", t->path, name, sqfs_err_text(r)); r = -1; }
            static char buf[1 << 17];
            uint64_t left = size;
            while (!r && left > 0) {
                size_t chunk = left > sizeof(buf) ? sizeof(buf) : (size_t)left;
                if (tar_read(t, buf, chunk, w) != 0) { r = -1; break; }
                int e = sqfs_block_processor_append(w->proc, buf, chunk);
                if (e) { seterr(w->err, w->errlen, "%s: \"%s\": %s", t->path, name, sqfs_err_text(e)); r = -1; }
                left -= chunk;
            }
            if (!r) {
                int e = sqfs_block_processor_end_file(w->proc);
                if (e) { seterr(w->err, w->errlen, "%s: \"%s\": %s", t->path, name, sqfs_err_text(e)); r = -1; }
            }
            if (!r) r = tar_skip(t, (512 - size % 512) % 512, w);
        } else {
            r = tar_skip(t, (size + 511) / 512 * 512, w);
        }
        free(name);
        free(link);
        if (r) return -1;
    }
    sort_tree(t->root);
    return 0;
}

int csqfs_write_tar(const char *archive, const char *output, uint32_t mtime, const char *compressor,
                    int owner_root, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    int fd = open(archive, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { seterr(err, errlen, "open %s: %s", archive, strerror(errno)); return -1; }
    tar_reader t = {.path = archive, .pax_size = -1, .pax_uid = -1, .pax_gid = -1};
    t.gz = gzdopen(fd, "rb");
    if (!t.gz) { close(fd); seterr(err, errlen, "open %s: out of memory", archive); return -1; }
    gzbuffer(t.gz, 1 << 17);
    t.root = calloc(1, sizeof(*t.root));
    if (!t.root) { gzclose(t.gz); seterr(err, errlen, "out of memory"); return -1; }
    t.root->name = strdup("");
    t.root->st.st_mode = S_IFDIR | 0755;
    int r = build_image(output, mtime, compressor, owner_root, produce_tar, &t, err, errlen);
    /* build_image freed the tree; the replaced nodes are ours. */
    while (t.dead) { node *n = t.dead; t.dead = n->next_dead; node_free(n); }
    free(t.long_name); free(t.long_link); free(t.pax_path); free(t.pax_link);
    gzclose(t.gz);
    return r;
}

/* ---- reader ---- */

struct csqfs_image {
    fd_file *file;
    sqfs_super_t super;
    sqfs_compressor_t *cmp;
    sqfs_dir_reader_t *dr;
    sqfs_data_reader_t *data;
    sqfs_inode_generic_t *root;
};

void csqfs_close(csqfs_image *img) {
    if (!img) return;
    free(img->root);
    if (img->data) sqfs_destroy(img->data);
    if (img->dr) sqfs_destroy(img->dr);
    if (img->cmp) sqfs_destroy(img->cmp);
    if (img->file) sqfs_destroy(img->file);
    free(img);
}

csqfs_image *csqfs_open(int fd, uint64_t offset, uint64_t size, char *err, size_t errlen) {
    csqfs_image *img = calloc(1, sizeof(*img));
    if (!img) { seterr(err, errlen, "out of memory"); return NULL; }
    img->file = fd_file_new(fd, offset, size, 0);
    sqfs_file_t *file = &img->file->base;
    sqfs_compressor_config_t cfg;
    int r;
    if (!img->file) { r = SQFS_ERROR_ALLOC; goto fail; }
    if ((r = sqfs_super_read(&img->super, file))) goto fail;
    if ((r = sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)img->super.compression_id,
                                         img->super.block_size, SQFS_COMP_FLAG_UNCOMPRESS))) goto fail;
    if ((r = sqfs_compressor_create(&cfg, &img->cmp))) goto fail;
    if (img->super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
        if ((r = img->cmp->read_options(img->cmp, file)) < 0) goto fail;
    }
    img->dr = sqfs_dir_reader_create(&img->super, img->cmp, file, 0);
    img->data = sqfs_data_reader_create(file, img->super.block_size, img->cmp, 0);
    if (!img->dr || !img->data) { r = SQFS_ERROR_ALLOC; goto fail; }
    if ((r = sqfs_data_reader_load_fragment_table(img->data, &img->super))) goto fail;
    if ((r = sqfs_dir_reader_get_root_inode(img->dr, &img->root))) goto fail;
    return img;
fail:
    seterr(err, errlen, "squashfs: %s", sqfs_err_text(r));
    csqfs_close(img);
    return NULL;
}

/* Resolves `path`, following a symlink in the last component (relative to its directory, or absolute). */
static int lookup(csqfs_image *img, const char *path, sqfs_inode_generic_t **out, char *err, size_t errlen) {
    char cur[4096];
    snprintf(cur, sizeof(cur), "%s", path);
    for (int hops = 0; hops < 8; hops++) {
        sqfs_inode_generic_t *in = NULL;
        int r = sqfs_dir_reader_find_by_path(img->dr, img->root, cur, &in);
        if (r == SQFS_ERROR_NO_ENTRY || r == SQFS_ERROR_NOT_DIR) return 1;
        if (r) { seterr(err, errlen, "squashfs %s: %s", cur, sqfs_err_text(r)); return -1; }
        if (in->base.type != SQFS_INODE_SLINK && in->base.type != SQFS_INODE_EXT_SLINK) { *out = in; return 0; }
        size_t tlen = in->base.type == SQFS_INODE_SLINK ? in->data.slink.target_size : in->data.slink_ext.target_size;
        char target[4096];
        if (tlen >= sizeof(target)) { free(in); return 1; }
        memcpy(target, in->extra, tlen);
        target[tlen] = 0;
        free(in);
        if (target[0] == '/') {
            snprintf(cur, sizeof(cur), "%s", target);
        } else {
            char *slash = strrchr(cur, '/');
            if (slash) slash[1] = 0; else cur[0] = 0;
            size_t used = strlen(cur);
            snprintf(cur + used, sizeof(cur) - used, "%s", target);
        }
    }
    return 1;
}

int csqfs_read_file(csqfs_image *img, const char *path, size_t limit, uint8_t **out, size_t *outlen,
                    char *err, size_t errlen) {
    sqfs_inode_generic_t *in = NULL;
    int r = lookup(img, path, &in, err, errlen);
    if (r) return r;
    if (in->base.type != SQFS_INODE_FILE && in->base.type != SQFS_INODE_EXT_FILE) { free(in); return 1; }
    sqfs_u64 size = 0;
    sqfs_inode_get_file_size(in, &size);
    if (size > limit) { seterr(err, errlen, "squashfs %s: larger than %zu bytes", path, limit); free(in); return -1; }
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    if (!buf) { free(in); seterr(err, errlen, "out of memory"); return -1; }
    sqfs_u64 done = 0;
    while (done < size) {
        sqfs_s32 n = sqfs_data_reader_read(img->data, in, done, buf + done, (sqfs_u32)(size - done > (1u << 30) ? (1u << 30) : size - done));
        if (n <= 0) { free(buf); free(in); seterr(err, errlen, "squashfs %s: %s", path, n < 0 ? sqfs_err_text(n) : "short read"); return -1; }
        done += (sqfs_u64)n;
    }
    free(in);
    *out = buf;
    *outlen = (size_t)size;
    return 0;
}

int csqfs_list_dir(csqfs_image *img, const char *path, char **out, char *err, size_t errlen) {
    sqfs_inode_generic_t *in = NULL;
    int r = lookup(img, path, &in, err, errlen);
    if (r) return r;
    if (in->base.type != SQFS_INODE_DIR && in->base.type != SQFS_INODE_EXT_DIR) { free(in); return 1; }
    r = sqfs_dir_reader_open_dir(img->dr, in, 0);
    free(in);
    if (r) { seterr(err, errlen, "squashfs %s: %s", path, sqfs_err_text(r)); return -1; }
    size_t cap = 256, len = 0;
    char *names = malloc(cap);
    if (!names) { seterr(err, errlen, "out of memory"); return -1; }
    names[0] = 0;
    for (;;) {
        sqfs_dir_entry_t *ent = NULL;
        r = sqfs_dir_reader_read(img->dr, &ent);
        if (r > 0) break;
        if (r < 0) { free(names); seterr(err, errlen, "squashfs %s: %s", path, sqfs_err_text(r)); return -1; }
        size_t nlen = (size_t)ent->size + 1;
        if (len + nlen + 2 > cap) {
            cap = (len + nlen + 2) * 2;
            char *g = realloc(names, cap);
            if (!g) { free(ent); free(names); seterr(err, errlen, "out of memory"); return -1; }
            names = g;
        }
        memcpy(names + len, ent->name, nlen);
        len += nlen;
        names[len++] = '\n';
        names[len] = 0;
        free(ent);
    }
    *out = names;
    return 0;
}

/* ---- loop devices ---- */

int csqfs_loop_attach(int backing_fd, uint64_t offset, uint64_t size, int *loop_nr, char *err, size_t errlen) {
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) { seterr(err, errlen, "open /dev/loop-control: %s", strerror(errno)); return -1; }
    for (int attempt = 0; attempt < 16; attempt++) {
        int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (nr < 0) { seterr(err, errlen, "ioctl LOOP_CTL_GET_FREE: %s", strerror(errno)); close(ctl); return -1; }
        char dev[64];
        snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
        int fd = open(dev, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            /* No device node (a container's /dev): make it. */
            if (mknod(dev, S_IFBLK | 0660, makedev(7, (unsigned)nr)) == 0 || errno == EEXIST) fd = open(dev, O_RDONLY | O_CLOEXEC);
        }
        if (fd < 0) { seterr(err, errlen, "open %s: %s", dev, strerror(errno)); close(ctl); return -1; }
        struct loop_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.fd = (unsigned)backing_fd;
        cfg.info.lo_offset = offset;
        cfg.info.lo_sizelimit = size;
        cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
        if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) { close(ctl); *loop_nr = nr; return fd; }
        int e = errno;
        if (e == EBUSY) { close(fd); continue; }   /* taken by someone else meanwhile */
        if (e == EINVAL || e == ENOTTY) {
            /* Kernels before 5.8: LOOP_SET_FD, then the offset, limit and flags. */
            if (ioctl(fd, LOOP_SET_FD, backing_fd) != 0) {
                e = errno;
                close(fd);
                if (e == EBUSY) continue;
                seterr(err, errlen, "ioctl LOOP_SET_FD %s: %s", dev, strerror(e)); close(ctl); return -1;
            }
            struct loop_info64 info;
            memset(&info, 0, sizeof(info));
            info.lo_offset = offset;
            info.lo_sizelimit = size;
            info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
            if (ioctl(fd, LOOP_SET_STATUS64, &info) != 0) {
                e = errno;
                ioctl(fd, LOOP_CLR_FD, 0);
                close(fd);
                seterr(err, errlen, "ioctl LOOP_SET_STATUS64 %s: %s", dev, strerror(e)); close(ctl); return -1;
            }
            close(ctl);
            *loop_nr = nr;
            return fd;
        }
        close(fd);
        seterr(err, errlen, "ioctl LOOP_CONFIGURE %s: %s", dev, strerror(e));
        close(ctl);
        return -1;
    }
    close(ctl);
    seterr(err, errlen, "no free loop device (all busy)");
    return -1;
}
